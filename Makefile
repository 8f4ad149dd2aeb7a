# The two commands a newcomer needs: `make demo` (run the platform) and `make test` (run the tests).
.PHONY: setup demo test lint messages bench clean

setup:
	./scripts/setup.sh

demo: setup
	./scripts/demo.sh

test: setup
	./scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/lint-imports

# Extract each package's page text and merge it into its Chinese, Malay and Tamil catalogues.
messages:
	./scripts/messages.sh

clean:
	rm -rf .venv node_modules var
