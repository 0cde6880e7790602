"""Programme results (issue 6): the brochure's history as records, reports computed from
records (imported history and requests handled in the system alike), pictures and exports.

Importing this package registers its tables (`storage.results_models`) in the shared
`SQLModel.metadata`."""

from storage import results_models as _tables  # noqa: F401  (registers the tables)
