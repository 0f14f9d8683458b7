"""`bao report`: a static HTML report of evaluations, training runs and Pareto sweeps.

The report opens from the file system (no server, nothing fetched from the network): `index.html` with the
results tables, figures under `figures/` (PNG shown, SVG beside it), and a trajectory viewer whose episodes
are loaded one evaluation at a time from `data/`.
"""
