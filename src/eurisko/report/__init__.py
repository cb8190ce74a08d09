"""Reports for people: result files (CSV, JSON, PNG) and rich tables of a Pareto front."""

from eurisko.report.front import front_rows, front_table, results_dict, write_results

__all__ = ["front_rows", "front_table", "results_dict", "write_results"]
