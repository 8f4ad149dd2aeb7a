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

# Extract page text and merge it into the Chinese, Malay and Tamil catalogues for translators.
messages:
	.venv/bin/pybabel extract -F babel.cfg -k _ -k N_ --no-location --sort-output \
		--project smartnation --copyright-holder "smartnation contributors" \
		-o src/smartnation/locale/messages.pot .
	.venv/bin/pybabel update -i src/smartnation/locale/messages.pot -d src/smartnation/locale --no-fuzzy-matching

clean:
	rm -rf .venv node_modules var
