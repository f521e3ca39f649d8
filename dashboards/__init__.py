"""Regional dashboards, open data and company impact reports (issue 5).

selectors -> build (tables from queries) -> suppression (the one k = 3 rule) -> presentation /
exports / api / views. See docs/dashboards.md.
"""
