"""The demo: a believable Baltic Sea Region of companies, sites and side streams, plus demo users for
each role, built by `manage.py seed_demo`.

- demo/data/*.csv and catalogue.py: the towns, naming customs, sector archetypes and their typical
  streams, and the showcase pair of companies the demo users belong to;
- planning.py: the plan of a demo (pure, deterministic from a seed);
- services.py: writing it to the database (`seed`, `reset`, `set_demo_passwords`).

This app may import every other app; none imports it (symbiosis/settings.py lists it in INSTALLED_APPS).
"""
