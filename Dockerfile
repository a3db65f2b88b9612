FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
RUN pybabel compile -d locale -D messages
EXPOSE 8000
CMD ["python", "manage.py", "run", "--host", "0.0.0.0", "--port", "8000"]
