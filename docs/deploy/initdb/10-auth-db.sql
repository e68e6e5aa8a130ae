-- The MLflow auth app keeps users and permissions in its own database.
CREATE DATABASE mlflow_auth OWNER mlflow;
