"""The engine's operations, one module per job; `engine.service.Engine` is their façade.

`core` holds what every operation shares (database, registry, clock, listeners); `create`,
`advance`, `update`, `timeline` and `queries` are the operations; `locking`, `validation`,
`rules`, `availability` and `request_view` are the steps they share.
"""
