FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY checkin ./checkin
COPY console ./console
COPY loadtest ./loadtest
RUN pip install --no-cache-dir .
ENV LAUNCHDAY_DATA=/data LAUNCHDAY_HOST=0.0.0.0 LAUNCHDAY_PORT=8080
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["launchday", "serve"]
