"""The rules of labelling with people: answers and final labels, agreement, tally, review,
suggestions, the queue, the background trainer and the service the HTTP layer calls. No HTTP
here: errors are domain errors that ``labelling.api.errors`` maps to status codes."""
