# MLflow server image with the PostgreSQL driver and boto3 (S3/MinIO), which the plain
# mlflow package does not bring. Pin the same MLflow as the notebooks (pyproject: >=3.17).
FROM python:3.11-slim
RUN pip install --no-cache-dir "mlflow==3.17.*" "psycopg2-binary>=2.9" "boto3>=1.34"
EXPOSE 5000
