FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY activities ./activities
COPY events ./events
COPY workflows ./workflows
COPY db ./db
COPY infra ./infra
COPY bench ./bench
COPY inngest_temporal ./inngest_temporal
COPY auth ./auth
COPY settings ./settings
COPY application ./application
COPY worker.py alembic.ini ./
RUN pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["uvicorn", "--factory", "api.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
