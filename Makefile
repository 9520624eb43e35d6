# Shortcuts for the two commands of README.md (make is optional: dev.py needs only Python 3.11).
PYTHON ?= python3.11

.PHONY: run test bench-api
run:
	$(PYTHON) dev.py run
test:
	$(PYTHON) dev.py test
