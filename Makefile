# One entry point for people and CI. `make lab` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test test-notebooks lint bench clean

LABEXT_NAME := matih-jupyter-labextension
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/$(LABEXT_NAME)

# pip builds the lab extension (hatch-jupyter-builder runs jlpm in labextension/); the link makes
# later `jlpm build` runs in labextension/ visible to JupyterLab without reinstalling.
$(STAMP): pyproject.toml labextension/package.json labextension/yarn.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	cp labextension/install.json matih_jupyter/labextension/install.json
	rm -rf $(LABEXT_LINK) && ln -s $(CURDIR)/matih_jupyter/labextension $(LABEXT_LINK)
	@out="$$($(VENV)/bin/jupyter labextension list 2>&1)"; \
	  echo "$$out" | grep -E "$(LABEXT_NAME) .*enabled.*OK" || { echo "$$out"; exit 1; }
	@out="$$($(VENV)/bin/jupyter server extension list 2>&1)"; \
	  echo "$$out" | grep -E "matih_jupyter [0-9.]+ .*OK" || { echo "$$out"; exit 1; }
	touch $(STAMP)

install: $(STAMP)

## JupyterLab on the quickstart notebook, on the embedded store (~/.matih unless MATIH_HOME).
# Options: PORT (default 8888), TOKEN (default: a random one) and NO_BROWSER=1 (a headless or
# remote machine; from your laptop, `ssh -L 8888:localhost:8888 host` and open the URL there),
# e.g. `make lab PORT=8890 TOKEN=secret NO_BROWSER=1`. Once the server answers, the URL that
# opens notebooks/01_quickstart.ipynb (token included) is printed: Jupyter's own banner hides a
# token it did not generate. TOKEN is taken from the command line only: a TOKEN in the
# environment is often another service's secret. The token reaches Jupyter through its
# environment (JUPYTER_TOKEN), never a command line that `ps` shows.
# The sidebar needs a tenant (the server never takes one from the browser): the notebooks' own
# acme-corp unless MATIH_TENANT_ID says otherwise.
PORT ?= 8888
NO_BROWSER ?=
LAB_TOKEN := $(if $(filter command line,$(origin TOKEN)),$(TOKEN),)
QUICKSTART := notebooks/01_quickstart.ipynb

# Waits until the server serves LAB_URL, then prints it; gives up when the server (LAB_PID) is gone.
define LAB_READY
import os, sys, time, urllib.request
url, pid = os.environ["LAB_URL"], int(os.environ["LAB_PID"])
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
while True:
    try:
        os.kill(pid, 0)
        direct.open(url, timeout=2).close()
        break
    except ProcessLookupError:
        sys.exit(1)
    except OSError:
        time.sleep(0.3)
print(f"\nmatih: JupyterLab is ready. Open the quickstart notebook at\n\n    {url}\n", flush=True)
endef
export LAB_READY

lab: install
	@token='$(LAB_TOKEN)'; token="$${token:-$$($(PY) -c 'import secrets; print(secrets.token_hex(24))')}"; \
	LAB_URL="http://localhost:$(PORT)/lab/tree/$(QUICKSTART)?token=$$token" LAB_PID=$$$$ \
	  $(PY) -c "$$LAB_READY" & \
	MATIH_TENANT_ID="$${MATIH_TENANT_ID:-acme-corp}" JUPYTER_TOKEN="$$token" \
	  exec $(VENV)/bin/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" \
	    --ServerApp.port=$(PORT) --ServerApp.port_retries=0 \
	    --LabApp.default_url=/lab/tree/$(QUICKSTART) \
	    $(if $(filter 1 yes true,$(NO_BROWSER)),--no-browser,)

lint: install
	$(PY) -m ruff check matih_jupyter tests benchmarks
	$(PY) -m ruff format --check matih_jupyter tests benchmarks
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	cd labextension && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" jlpm lint:check

## Every test: lint, types, architecture contracts, then the whole pytest suite, then the example notebooks.
test: lint
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-notebooks

# nbval runs each notebook top to bottom on a fresh embedded store and compares the outputs with
# the stored ones (notebooks/nbval_sanitize.cfg masks ids, paths and versions). Notebooks are
# named one by one: a directory would collect every .ipynb under it (checkpoints included).
# --nbval-current-env: the kernel is this venv's python, whatever kernelspecs the machine has.
NOTEBOOKS := $(addprefix notebooks/,01_quickstart.ipynb 02_magics_and_live_plots.ipynb \
	03_compare_and_promote.ipynb 04_tenants.ipynb 05_reproduce_a_run.ipynb 06_sweep.ipynb \
	07_governed_promotion.ipynb)
NOTEBOOK_ENV := -u MLFLOW_TRACKING_URI -u MLFLOW_ARTIFACT_ROOT -u MLFLOW_REGISTRY_URI \
	-u MATIH_TENANT_ID -u MATIH_USER_ID -u MATIH_JOB_ID -u MATIH_NOTEBOOK_PATH -u JPY_SESSION_NAME

test-notebooks: install
	home="$$(mktemp -d)" && trap 'rm -rf "$$home"' EXIT && \
	  env $(NOTEBOOK_ENV) MATIH_HOME="$$home" $(PY) -m pytest --nbval $(NOTEBOOKS) \
	    --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:randomly

bench: install
	$(PY) benchmarks/bench_logging.py
	$(PY) benchmarks/bench_rest.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
