#!/bin/sh
# certbot's deploy hook (README, "On a real server"): after each issue or
# renewal, copy the certificate where nginx reads it (deploy/certs/, mounted
# at /etc/nginx/certs) and have nginx load it without dropping a socket.
# certbot runs it with RENEWED_LINEAGE=/etc/letsencrypt/live/<domain>.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
install -m 644 "$RENEWED_LINEAGE/fullchain.pem" "$repo/deploy/certs/fullchain.pem"
install -m 600 "$RENEWED_LINEAGE/privkey.pem" "$repo/deploy/certs/privkey.pem"
cd "$repo" && docker compose exec -T nginx nginx -s reload
