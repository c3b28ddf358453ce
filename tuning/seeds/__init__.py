"""The five seed reports rnnkit re-runs (`rnnkit report seed-000` … `seed-004`), one module each."""
from tuning.seeds import seed_000, seed_001, seed_002, seed_003, seed_004

REPORTS = {module.REPORT.name: module.REPORT for module in (seed_000, seed_001, seed_002, seed_003, seed_004)}
