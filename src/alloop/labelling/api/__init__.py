"""The HTTP layer of ``alloop label``: ``app`` (FastAPI app and static page), ``auth`` (the
token check), ``errors`` (domain errors to status codes, in one place), one router per resource
(``search``, ``review``, ``guidance``). Imports ``labelling.domain`` and ``labelling.storage``."""
