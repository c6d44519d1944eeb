/* demo_workload: the workload thread, its transaction mix and its error handling
 * (see demo_workload.h). Errors are counted one by one but logged once per burst: the first
 * failure is logged and turns health "workload" degraded, the next success logs the recovery.
 * A lost connection is re-opened with exponential backoff (0.5 s doubling to 10 s). */
#include "demo/demo_workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "core/log.h"
#include "demo/demo_cluster.h"
#include "demo/demo_stopper.h"

#define WL_APP_NAME "sluice-demo-workload"
#define WL_BACKOFF_MIN_MS 500L
#define WL_BACKOFF_MAX_MS 10000L

struct demo_workload {
    demo_workload_options opts;
    char dbname[64];
    health *health;
    metric *m_tx;
    metric *m_errors;
    demo_stopper stopper;
    pthread_t thread;
    int thread_started;

    /* Owned by the thread. */
    PGconn *conn;
    uint64_t rng;
    long long max_customer, max_product, max_order;
    unsigned long long seq;          /* makes generated e-mail addresses unique */
    int in_error;                    /* inside a burst of errors */
    unsigned long long burst_errors;
    int healthy_reported;
};

/* splitmix64: small, fast, and good enough for picking rows. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0; the modulo bias is irrelevant here). */
static long long rng_below(uint64_t *s, long long n)
{
    return n <= 0 ? 0 : (long long)(rng_next(s) % (uint64_t)n);
}

static const char *rng_pick(uint64_t *s, const char *const *items, size_t n)
{
    return items[rng_below(s, (long long)n)];
}
#define PICK(s, arr) rng_pick((s), (arr), sizeof(arr) / sizeof((arr)[0]))

static const char *const first_names[] = {"Aisha", "Bruno", "Chloe", "Dmitri", "Elif", "Finn",
                                          "Giulia", "Hana", "Ivan", "Julia", "Kofi", "Lena",
                                          "Mateo", "Nora", "Oskar", "Priya", "Rosa", "Sven"};
static const char *const last_names[] = {"Keller", "Moreau", "Visser", "Byrne", "Lopez",
                                         "Conti", "Kowalski", "Berg", "Taylor", "Novak",
                                         "Wagner", "Laurent", "Bakker", "Walsh"};
static const char *const countries[] = {"DE", "FR", "NL", "IE", "ES", "IT", "PL", "SE", "GB", "US"};
static const char *const languages[] = {"de", "fr", "nl", "en", "es", "it"};
static const char *const cities[] = {"Berlin", "Dublin", "Amsterdam", "Paris", "Madrid",
                                     "Milan", "Warsaw", "Stockholm", "Hamburg", "Lyon"};
static const char *const streets[] = {"Harbour Road", "Linden Allee", "Canal Street",
                                      "Rue Verte", "Calle Mayor", "Market Square"};
static const char *const warehouses[] = {"FRA", "DUB", "AMS"};
static const char *const devices[] = {"ios", "android", "web", "desktop"};
static const char *const cancel_reasons[] = {"customer changed mind", "payment failed",
                                             "out of stock", "duplicate order"};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run one statement with text parameters (NULL entries are SQL NULL). Returns the result
 * (caller clears) or NULL with the server's message in err. */
static PGresult *wl_query(demo_workload *w, const char *sql, int nparams,
                          const char *const *params, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(w->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    demo_pg_message_copy(err, errlen, res ? PQresultErrorMessage(res) : PQerrorMessage(w->conn));
    if (!*err)
        snprintf(err, errlen, "query failed (%s)", PQresStatus(st));
    PQclear(res);
    return NULL;
}

/* Run a statement and only report success. */
static int wl_exec(demo_workload *w, const char *sql, int nparams, const char *const *params,
                   char *err, size_t errlen)
{
    PGresult *res = wl_query(w, sql, nparams, params, err, errlen);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

/* A random id in [lo, hi] as text. */
static void rand_id(demo_workload *w, long long lo, long long hi, char *out, size_t outlen)
{
    if (hi < lo)
        hi = lo;
    snprintf(out, outlen, "%lld", lo + rng_below(&w->rng, hi - lo + 1));
}

/* ---- the transactions: each runs inside BEGIN/COMMIT, returns 0 or -1 with err ---- */

static int tx_new_customer(demo_workload *w, char *err, size_t errlen)
{
    const char *first = PICK(&w->rng, first_names), *last = PICK(&w->rng, last_names);
    char email[160], name[96], phone[32], birth[64], prefs[128], optin[8];
    snprintf(email, sizeof email, "%s.%s.%llu.%04llx@example.com", first, last, ++w->seq,
             (unsigned long long)rng_below(&w->rng, 65536));
    for (char *p = email; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(name, sizeof name, "%s %s", first, last);
    snprintf(phone, sizeof phone, "+353 1 %07lld", rng_below(&w->rng, 10000000));
    snprintf(birth, sizeof birth, "%lld-%02lld-%02lld", 1950 + rng_below(&w->rng, 55),
             1 + rng_below(&w->rng, 12), 1 + rng_below(&w->rng, 28));
    int newsletter = rng_below(&w->rng, 3) == 0;
    snprintf(optin, sizeof optin, "%s", newsletter ? "true" : "false");
    snprintf(prefs, sizeof prefs, "{\"newsletter\": %s, \"language\": \"%s\"}", optin,
             PICK(&w->rng, languages));
    const char *params[] = {email, name, rng_below(&w->rng, 4) ? phone : NULL,
                            PICK(&w->rng, countries), birth, optin, prefs,
                            rng_below(&w->rng, 10) ? "{}" : "{new,b2b}"};
    PGresult *res = wl_query(w,
        "INSERT INTO customers (email, full_name, phone, country, birth_date, marketing_opt_in,"
        " preferences, tags)"
        " VALUES ($1, $2, $3, $4, $5::date, $6::boolean, $7::jsonb, $8::text[]) RETURNING id",
        8, params, err, errlen);
    if (!res)
        return -1;
    long long id = atoll(PQgetvalue(res, 0, 0));
    if (id > w->max_customer)
        w->max_customer = id;
    PQclear(res);
    return 0;
}

static int tx_update_customer(demo_workload *w, char *err, size_t errlen)
{
    char id[24], points[24];
    rand_id(w, 1, w->max_customer, id, sizeof id);
    snprintf(points, sizeof points, "%lld", 5 + rng_below(&w->rng, 200));
    const char *params[] = {id, points, rng_below(&w->rng, 2) ? "true" : "false",
                            PICK(&w->rng, devices), rng_below(&w->rng, 20) ? "false" : "true"};
    return wl_exec(w,
        "UPDATE customers SET loyalty_points = loyalty_points + $2::int,"
        " marketing_opt_in = $3::boolean,"
        " preferences = preferences || jsonb_build_object('newsletter', $3::boolean,"
        "                                                 'last_device', $4::text),"
        " tags = CASE WHEN $5::boolean AND NOT 'vip' = ANY (tags)"
        "             THEN array_append(tags, 'vip') ELSE tags END,"
        " updated_at = now()"
        " WHERE id = (SELECT id FROM customers WHERE id >= $1::bigint ORDER BY id LIMIT 1)",
        5, params, err, errlen);
}

static int tx_new_order(demo_workload *w, char *err, size_t errlen)
{
    char customer[24], street[64], postcode[8], ip[32];
    rand_id(w, 1, w->max_customer, customer, sizeof customer);
    const char *warehouse = PICK(&w->rng, warehouses);
    snprintf(street, sizeof street, "%lld %s", 1 + rng_below(&w->rng, 200), PICK(&w->rng, streets));
    snprintf(postcode, sizeof postcode, "%05lld", rng_below(&w->rng, 100000));
    snprintf(ip, sizeof ip, "192.0.2.%lld", 1 + rng_below(&w->rng, 254));
    const char *params[] = {customer, warehouse, street, PICK(&w->rng, cities), postcode, ip,
                            rng_below(&w->rng, 8) ? NULL : "Please ring twice"};
    PGresult *res = wl_query(w,
        "INSERT INTO orders (customer_id, warehouse_code, shipping_address, client_ip, notes)"
        " SELECT c.id, $2, jsonb_build_object('street', $3::text, 'city', $4::text,"
        "                                     'postcode', $5::text), $6::inet, $7"
        " FROM customers AS c WHERE c.id >= $1::bigint ORDER BY c.id LIMIT 1 RETURNING id",
        7, params, err, errlen);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0; /* no such customer: nothing to do */
    }
    char order[24];
    snprintf(order, sizeof order, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    long long order_id = atoll(order);
    if (order_id > w->max_order)
        w->max_order = order_id;

    int lines = 1 + (int)rng_below(&w->rng, 5);
    for (int line = 1; line <= lines; line++) {
        char line_no[24], product[24], qty[24];
        snprintf(line_no, sizeof line_no, "%d", line);
        rand_id(w, 1, w->max_product, product, sizeof product);
        snprintf(qty, sizeof qty, "%lld", 1 + rng_below(&w->rng, 3));
        const char *item[] = {order, line_no, product, qty,
                              rng_below(&w->rng, 6) ? "0" : "0.15"};
        if (wl_exec(w,
                "INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price,"
                " discount)"
                " SELECT $1::bigint, $2::smallint, p.id, $4::int, p.price, $5::numeric"
                " FROM products AS p WHERE p.id >= $3::int AND p.is_active"
                " ORDER BY p.id LIMIT 1",
                5, item, err, errlen) < 0)
            return -1;
    }
    const char *totals[] = {order, warehouse};
    if (wl_exec(w,
            "UPDATE orders SET total = coalesce((SELECT round(sum(quantity * unit_price"
            " * (1 - discount)), 2) FROM order_items WHERE order_id = $1::bigint), 0)"
            " WHERE id = $1::bigint",
            1, totals, err, errlen) < 0)
        return -1;
    return wl_exec(w,
        "UPDATE inventory AS i SET reserved = i.reserved + x.qty, updated_at = now()"
        " FROM (SELECT product_id, sum(quantity)::int AS qty FROM order_items"
        "       WHERE order_id = $1::bigint GROUP BY product_id) AS x"
        " WHERE i.warehouse_code = $2 AND i.product_id = x.product_id",
        2, totals, err, errlen);
}

/* Move one order a step: pending -> paid -> shipped -> delivered, mostly recent orders;
 * shipping takes the goods out of stock. */
static int advance_one(demo_workload *w, char *err, size_t errlen)
{
    char from[24];
    rand_id(w, w->max_order > 300 ? w->max_order - 300 : 1, w->max_order, from, sizeof from);
    PGresult *res = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *params[] = {attempt == 0 ? from : "1"};
        res = wl_query(w,
            "UPDATE orders SET status = CASE status WHEN 'pending' THEN 'paid'"
            "                                       WHEN 'paid' THEN 'shipped'"
            "                                       ELSE 'delivered' END::order_status,"
            " shipped_at = CASE WHEN status = 'paid' THEN now() ELSE shipped_at END,"
            " updated_at = now()"
            " WHERE id = (SELECT id FROM orders WHERE status IN ('pending', 'paid', 'shipped')"
            "             AND id >= $1::bigint ORDER BY id LIMIT 1)"
            " RETURNING id, status, warehouse_code",
            1, params, err, errlen);
        if (!res)
            return -1;
        if (PQntuples(res) == 1)
            break;
        PQclear(res);
        res = NULL;
    }
    if (!res)
        return 0; /* every order is delivered or cancelled */
    int shipped = strcmp(PQgetvalue(res, 0, 1), "shipped") == 0;
    char order[24], warehouse[8];
    snprintf(order, sizeof order, "%s", PQgetvalue(res, 0, 0));
    snprintf(warehouse, sizeof warehouse, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (!shipped)
        return 0;
    const char *params[] = {order, warehouse};
    return wl_exec(w,
        "UPDATE inventory AS i SET quantity = greatest(i.quantity - x.qty, 0),"
        " reserved = greatest(i.reserved - x.qty, 0), updated_at = now()"
        " FROM (SELECT product_id, sum(quantity)::int AS qty FROM order_items"
        "       WHERE order_id = $1::bigint GROUP BY product_id) AS x"
        " WHERE i.warehouse_code = $2 AND i.product_id = x.product_id",
        2, params, err, errlen);
}

/* A fulfilment batch: 1-4 orders move on (on average faster than orders come in). */
static int tx_advance_orders(demo_workload *w, char *err, size_t errlen)
{
    int n = 1 + (int)rng_below(&w->rng, 4);
    for (int i = 0; i < n; i++)
        if (advance_one(w, err, errlen) < 0)
            return -1;
    return 0;
}

static int tx_update_price(demo_workload *w, char *err, size_t errlen)
{
    char product[24], factor[16];
    rand_id(w, 1, w->max_product, product, sizeof product);
    snprintf(factor, sizeof factor, "%.3f", 0.90 + (double)rng_below(&w->rng, 201) / 1000.0);
    const char *params[] = {product, factor, rng_below(&w->rng, 5) ? "false" : "true"};
    return wl_exec(w,
        "UPDATE products SET price = greatest(round(price * $2::numeric, 2), 0.50),"
        " attributes = attributes || jsonb_build_object('on_sale', $3::boolean),"
        " updated_at = now()"
        " WHERE id = (SELECT id FROM products WHERE id >= $1::int ORDER BY id LIMIT 1)",
        3, params, err, errlen);
}

static int tx_restock(demo_workload *w, char *err, size_t errlen)
{
    char product[24], qty[24];
    rand_id(w, 1, w->max_product, product, sizeof product);
    snprintf(qty, sizeof qty, "%lld", 10 + rng_below(&w->rng, 90));
    const char *params[] = {PICK(&w->rng, warehouses), product, qty};
    return wl_exec(w,
        "UPDATE inventory SET quantity = quantity + $3::int, last_counted = current_date,"
        " updated_at = now()"
        " WHERE warehouse_code = $1"
        " AND product_id = (SELECT id FROM products WHERE id >= $2::int ORDER BY id LIMIT 1)",
        3, params, err, errlen);
}

/* Cancel an open order: release its reservations and delete its lines. */
static int tx_cancel_order(demo_workload *w, char *err, size_t errlen)
{
    char from[24];
    rand_id(w, w->max_order > 300 ? w->max_order - 300 : 1, w->max_order, from, sizeof from);
    const char *pick[] = {from};
    PGresult *res = wl_query(w,
        "SELECT id, warehouse_code FROM orders WHERE status IN ('pending', 'paid')"
        " AND id >= $1::bigint ORDER BY id LIMIT 1 FOR UPDATE",
        1, pick, err, errlen);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    char order[24], warehouse[8];
    snprintf(order, sizeof order, "%s", PQgetvalue(res, 0, 0));
    snprintf(warehouse, sizeof warehouse, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    const char *release[] = {order, warehouse};
    if (wl_exec(w,
            "UPDATE inventory AS i SET reserved = greatest(i.reserved - x.qty, 0),"
            " updated_at = now()"
            " FROM (SELECT product_id, sum(quantity)::int AS qty FROM order_items"
            "       WHERE order_id = $1::bigint GROUP BY product_id) AS x"
            " WHERE i.warehouse_code = $2 AND i.product_id = x.product_id",
            2, release, err, errlen) < 0)
        return -1;
    if (wl_exec(w, "DELETE FROM order_items WHERE order_id = $1::bigint", 1, release, err,
                errlen) < 0)
        return -1;
    const char *cancel[] = {order, PICK(&w->rng, cancel_reasons)};
    return wl_exec(w,
        "UPDATE orders SET status = 'cancelled', total = 0, updated_at = now(),"
        " notes = coalesce(notes || ' / ', '') || 'cancelled: ' || $2"
        " WHERE id = $1::bigint",
        2, cancel, err, errlen);
}

/* Housekeeping: delete one old finished order (its lines go with it). */
static int tx_delete_old_order(demo_workload *w, char *err, size_t errlen)
{
    char from[24];
    rand_id(w, 1, w->max_order / 2, from, sizeof from);
    const char *params[] = {from};
    return wl_exec(w,
        "DELETE FROM orders WHERE id = (SELECT id FROM orders"
        " WHERE status IN ('delivered', 'cancelled') AND id >= $1::bigint ORDER BY id LIMIT 1)",
        1, params, err, errlen);
}

typedef int (*tx_fn)(demo_workload *w, char *err, size_t errlen);

static const struct {
    const char *name;
    int weight;
    tx_fn run;
} tx_mix[] = {
    {"new_order", 30, tx_new_order},
    {"advance_orders", 30, tx_advance_orders},
    {"new_customer", 8, tx_new_customer},
    {"update_customer", 8, tx_update_customer},
    {"update_price", 8, tx_update_price},
    {"restock", 6, tx_restock},
    {"cancel_order", 6, tx_cancel_order},
    {"delete_old_order", 4, tx_delete_old_order},
};
#define TX_KINDS (sizeof tx_mix / sizeof tx_mix[0])

static size_t tx_pick(demo_workload *w)
{
    int total = 0;
    for (size_t i = 0; i < TX_KINDS; i++)
        total += tx_mix[i].weight;
    int r = (int)rng_below(&w->rng, total);
    for (size_t i = 0; i < TX_KINDS; i++) {
        if (r < tx_mix[i].weight)
            return i;
        r -= tx_mix[i].weight;
    }
    return 0;
}

/* Turn err into "name: err" in place (truncating err if needed). */
static void prefix_name(char *err, size_t errlen, const char *name)
{
    size_t n = strlen(name), len = strlen(err);
    if (errlen < n + 3)
        return;
    if (n + 2 + len + 1 > errlen)
        len = errlen - n - 3;
    memmove(err + n + 2, err, len);
    memcpy(err, name, n);
    err[n] = ':';
    err[n + 1] = ' ';
    err[n + 2 + len] = '\0';
}

/* One transaction of the given kind; 0 committed, -1 rolled back with err. */
static int tx_run(demo_workload *w, size_t kind, char *err, size_t errlen)
{
    if (wl_exec(w, "BEGIN", 0, NULL, err, errlen) < 0)
        return -1;
    if (tx_mix[kind].run(w, err, errlen) < 0) {
        prefix_name(err, errlen, tx_mix[kind].name);
        PGresult *res = PQexec(w->conn, "ROLLBACK");
        PQclear(res);
        return -1;
    }
    return wl_exec(w, "COMMIT", 0, NULL, err, errlen);
}

/* ---- connection, health and the loop ---- */

static void wl_report_error(demo_workload *w, const char *msg)
{
    if (w->m_errors)
        metric_add(w->m_errors, 1);
    w->burst_errors++;
    if (w->in_error)
        return; /* logged at the start of this burst */
    w->in_error = 1;
    log_fields(LOG_WARN, "demo", "workload error (further errors are counted, not logged, "
               "until it recovers)", "error", msg, NULL);
    if (w->health)
        health_set(w->health, "workload", HEALTH_DEGRADED, msg);
}

static void wl_report_success(demo_workload *w)
{
    if (w->m_tx)
        metric_add(w->m_tx, 1);
    if (w->in_error) {
        log_info("demo", "workload recovered after %llu failed attempts", w->burst_errors);
        w->in_error = 0;
        w->burst_errors = 0;
        w->healthy_reported = 0;
    }
    if (!w->healthy_reported && w->health) {
        char msg[64];
        snprintf(msg, sizeof msg, "%d tx/s", w->opts.rate);
        health_set(w->health, "workload", HEALTH_OK, msg);
        w->healthy_reported = 1;
    }
}

static int wl_connect(demo_workload *w, char *err, size_t errlen)
{
    w->conn = demo_pg_connect(w->opts.port, w->dbname, WL_APP_NAME, err, errlen);
    if (!w->conn)
        return -1;
    PGresult *res = NULL;
    if (wl_exec(w, "SET statement_timeout = '10s'", 0, NULL, err, errlen) < 0 ||
        !(res = wl_query(w,
              "SELECT coalesce((SELECT max(id) FROM customers), 0),"
              " coalesce((SELECT max(id) FROM products), 0),"
              " coalesce((SELECT max(id) FROM orders), 0)",
              0, NULL, err, errlen))) {
        PQfinish(w->conn);
        w->conn = NULL;
        return -1;
    }
    w->max_customer = atoll(PQgetvalue(res, 0, 0));
    w->max_product = atoll(PQgetvalue(res, 0, 1));
    w->max_order = atoll(PQgetvalue(res, 0, 2));
    PQclear(res);
    return 0;
}

static void *wl_thread(void *arg)
{
    demo_workload *w = arg;
    char err[512];
    long backoff = WL_BACKOFF_MIN_MS;
    double interval = 1000.0 / w->opts.rate;
    double next = (double)now_ms();

    while (!demo_stopper_requested(&w->stopper)) {
        if (!w->conn) {
            if (wl_connect(w, err, sizeof err) < 0) {
                wl_report_error(w, err);
                if (demo_stopper_sleep(&w->stopper, backoff))
                    break;
                backoff = backoff * 2 > WL_BACKOFF_MAX_MS ? WL_BACKOFF_MAX_MS : backoff * 2;
                next = (double)now_ms();
                continue;
            }
            backoff = WL_BACKOFF_MIN_MS;
        }
        double now = (double)now_ms();
        if (next > now && demo_stopper_sleep(&w->stopper, (long)(next - now) + 1))
            break;
        next += interval;
        now = (double)now_ms();
        if (next < now - 1000.0)
            next = now; /* fell behind (slow server): do not try to catch up in a burst */

        if (tx_run(w, tx_pick(w), err, sizeof err) == 0) {
            wl_report_success(w);
            continue;
        }
        if (PQstatus(w->conn) != CONNECTION_OK) {
            char msg[640];
            snprintf(msg, sizeof msg, "connection lost: %s", err);
            wl_report_error(w, msg);
            PQfinish(w->conn);
            w->conn = NULL;
        } else {
            wl_report_error(w, err);
        }
    }
    if (w->conn) {
        PQfinish(w->conn);
        w->conn = NULL;
    }
    return NULL;
}

demo_workload *demo_workload_create(const demo_workload_options *opts, health *h, metrics *m,
                                    char *err, size_t errlen)
{
    if (opts->rate <= 0) {
        snprintf(err, errlen, "workload rate must be positive");
        return NULL;
    }
    demo_workload *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->opts = *opts;
    snprintf(w->dbname, sizeof w->dbname, "%s", opts->dbname);
    w->opts.dbname = w->dbname;
    w->health = h;
    w->rng = opts->seed;
    if (m) {
        w->m_tx = metrics_counter(m, "sluice_demo_workload_transactions_total",
                                  "Transactions committed by the demo workload generator.", NULL);
        w->m_errors = metrics_counter(m, "sluice_demo_workload_errors_total",
                                      "Failed demo workload transactions and connection attempts.",
                                      NULL);
    }
    if (demo_stopper_init(&w->stopper) < 0) {
        snprintf(err, errlen, "cannot initialise the workload's stop signal");
        free(w);
        return NULL;
    }
    if (h)
        health_set(h, "workload", HEALTH_STARTING, "connecting");
    if (pthread_create(&w->thread, NULL, wl_thread, w) != 0) {
        snprintf(err, errlen, "cannot start the workload thread");
        demo_stopper_fini(&w->stopper);
        free(w);
        return NULL;
    }
    w->thread_started = 1;
    log_info("demo", "workload started: %d tx/s, seed %llu", opts->rate,
             (unsigned long long)opts->seed);
    return w;
}

void demo_workload_destroy(demo_workload *w)
{
    if (!w)
        return;
    if (w->thread_started) {
        demo_stopper_request(&w->stopper);
        pthread_join(w->thread, NULL);
        log_info("demo", "workload stopped");
    }
    demo_stopper_fini(&w->stopper);
    free(w);
}
