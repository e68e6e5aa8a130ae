"""pytest-jupyter's server fixtures (and its async test support) for the REST tests."""

from pytest_jupyter.jupyter_server import *  # noqa: F403
