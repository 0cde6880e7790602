"""The workflow loader's stages: read (bytes → located values) → shape (keys, types, labels,
fields, states, transitions) → names (guards, templates, recipients, timers) → graph
(reachability, dead ends, traps, ambiguity). `workflows.loader` runs them in order."""
