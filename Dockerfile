FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
RUN pybabel compile -d locale -D messages
EXPOSE 8000
# `manage.py run` serves with the limits of shared/serving.py: a request must arrive in full
# within REQUEST_READ_TIMEOUT_SECONDS (stalled connections are closed), idle keep-alive
# connections close after KEEP_ALIVE_TIMEOUT_SECONDS, and past MAX_CONCURRENT_CONNECTIONS new
# requests get a 503 at once. Behind a reverse proxy, set FORWARDED_ALLOW_IPS to its address so
# the sign-in rate limits count real clients, not the proxy.
CMD ["python", "manage.py", "run", "--host", "0.0.0.0", "--port", "8000"]
