FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends wordnet-base && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
ARG EXTRAS=""
RUN pip install --no-cache-dir ".${EXTRAS}"
EXPOSE 8000
CMD ["bamboo", "serve", "--host", "0.0.0.0", "--port", "8000"]
