#!/usr/bin/env bash
# make run: the agent on the embedded soft token, the demo login site (the
# account service and its OpenID Connect provider) and «Доверенность», a
# service that logs in through it. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${PODPIS_DEMO_DATA:-.data}
SITE_ADDR=${PODPIS_DEMO_LISTEN:-127.0.0.1:8080}
SITE="http://$SITE_ADDR"
POA_ADDR=${PODPIS_POA_LISTEN:-127.0.0.1:8081}
POA="http://$POA_ADDR"

bin/podpis-demo init --dir "$DATA"   # once: demo CA and the soft token's keys, made by podpis itself
mkdir -p "$DATA/agent"
export PODPIS_SOFTTOKEN_DIR="$DATA/softtoken" PODPIS_DATA_DIR="$DATA/agent" PODPIS_CONFIG="$DATA/agent/config.json"

# «Доверенность» is a client of the provider: its secret is made at the
# first start and kept in $DATA (readable by this user only); the clients
# file is written at every start from it and the two addresses.
if [ ! -s "$DATA/poa-client-secret" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' > "$DATA/poa-client-secret")
fi
(umask 077; printf '[{"id": "poa", "name": "Доверенность", "secret": "%s",\n  "redirect_uris": ["%s/callback"], "post_logout_redirect_uris": ["%s/"]}]\n' \
  "$(cat "$DATA/poa-client-secret")" "$POA" "$POA" > "$DATA/oidc-clients.json")

pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

# With a desktop the agent asks through dialogs; without one it serves its
# own prompt page and prints its address. The site keeps serving when the
# agent stops (tray «Выход», kill), so that «Отсутствует соединение с
# podpis» and «Обновить» can be tried; the agent is started again by hand.
agent=(bin/podpis run --module "$PWD/bin/libpodpis-softtoken.so" --trust-origin "$SITE" --trust-origin "$POA")
"${agent[@]}" &
pids+=($!)
agent_pid=$!
# --dist: the install page («Отсутствует соединение» → «Установка podpis») offers
# what make package left in dist/ (and says so when it is empty).
# The account service keeps its accounts in $DATA/account.db (SQLite) and, with
# --outbox, sends no SMS or mail: $SITE/outbox shows the codes. serve seeds the
# demo account of $DATA/demo-account.json (made by init) and prints how to log in.
# Госуслуги and Telegram are local stand-ins (sso/ssodemo; the ESIA one checks
# client_secret with OpenSSL's GOST engine); --esia and --telegram configure the
# real ones (docs/account.md).
bin/podpis-demo serve --listen "$SITE_ADDR" --roots "$DATA/roots.pem" --intermediates "$DATA/intermediates.pem" --dist "$PWD/dist" --outbox \
  --oidc-clients "$DATA/oidc-clients.json" --poa-url "$POA/" &
site_pid=$!
pids+=($site_pid)
# «Доверенность»: logs in only through the site's provider (it finds the
# provider at its first login, so the order of start does not matter).
bin/podpis-demo poa --listen "$POA_ADDR" --issuer "$SITE/oidc" --client-id poa --client-secret-file "$DATA/poa-client-secret" \
  --roots "$DATA/roots.pem" --intermediates "$DATA/intermediates.pem" &
pids+=($!)
echo
# The demo account init made (serve prints it too, in its own time).
field() { sed -n "s/^  \"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" "$DATA/demo-account.json"; }
echo "Демо: Личный кабинет — $SITE"
echo "      «Доверенность» (вход через Личный кабинет) — $POA"
echo "  Демо-учётная запись: телефон $(field phone) или email $(field email), пароль $(field password)"
echo "  Вход по сертификату: PIN-код токена ${PODPIS_SOFTTOKEN_PIN:-1234}"
echo "  Коды подтверждения не отправляются: они на странице $SITE/outbox"
echo "  Госуслуги и Telegram — тестовые стенды: привяжите их в Личном кабинете, затем входите через них"
echo "Агент podpis (pid $agent_pid) можно остановить отдельно — сайт продолжит работать; запустить снова:"
printf '  PODPIS_SOFTTOKEN_DIR=%q PODPIS_DATA_DIR=%q PODPIS_CONFIG=%q' "$PODPIS_SOFTTOKEN_DIR" "$PODPIS_DATA_DIR" "$PODPIS_CONFIG"
printf ' %q' "${agent[@]}"
echo
echo "Остановить всё: Ctrl-C"
wait "$site_pid"
