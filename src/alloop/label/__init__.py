"""Labelling with people: a web page and JSON API in front of a live active-learning loop.

Modules: ``config`` (a project's settings), ``store`` (SQLite persistence), ``agreement`` (kappas
and majority votes), ``queue`` (which items to hand out), ``trainer`` (the background model),
``service`` (the loop the API talks to), ``server`` (FastAPI), ``exporting`` (export, predict),
``cli`` (the commands).
"""
