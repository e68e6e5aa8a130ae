"""The seam to MLflow: the only modules that import MLflow or call its REST API.

* `client`: the client of one store, bound to explicit URIs;
* `new_store`: a new SQLite store created with its tracker, announced once in matih's words;
* `error_map`: MLflow's exceptions as the core's errors;
* `convert`: MLflow entities as result types, and buffered tuples as entities;
* `paging`: following page tokens;
* `workspaces`: tenants routed to MLflow workspaces when the server has them;
* `fluent`: the fluent API's globals, borrowed for autologging and put back;
* `flavors`: saving and loading models in MLflow's flavors;
* `internals`: every private MLflow API used, each pinned by a test.

Importing this package imports no MLflow; its modules do.
"""
