/* tools/perf/floor_publisher.c - the floor of tools/perf-suite: the least a
 * libstrophe client spends on the agent's job. Not part of the agent.
 *
 * STARTTLS (mandatory, the server certificate verified against --ca), SCRAM
 * login, initial presence, then every --interval seconds one reading of three
 * values (the BME280's temperature, humidity, pressure) published to the
 * account's PEP node as one SenML XML item, in the agent's wire format
 * (docs/wire-format.md). Publish-options (persist_items, access_model
 * presence) ride only on the first publish of a session: they create and
 * configure the node; later items go to the node as it is.
 *
 *   --mode stanza   builds each publish IQ with the libstrophe stanza API
 *                   (xmpp_iq_new, xmpp_stanza_new, ... ; libstrophe serialises it)
 *   --mode raw      formats the IQ into a fixed buffer and sends it with
 *                   xmpp_send_raw (no tree at all)
 *
 * It also answers ad-hoc command IQs (XEP-0050) for node `read` with the
 * current reading (the bare responder of the command figure), in the same mode.
 *
 * Reconnect policy: when the link is lost the first attempt goes out at once,
 * then one every --retry-ms (default 100 ms) until a login succeeds; a fresh
 * connection object each time (no XEP-0198 resumption). A server certificate
 * that does not verify exits 3; anything else (even a refused login) is retried.
 *
 * stdout: `online <unix time s>` each time a session is up (after the initial
 * presence was sent), `done <acked>` when --count items were acknowledged,
 * `stop published <n> acked <m>` at exit.
 *
 *   floor_publisher --host H --port P --jid J --password PW --ca FILE
 *                   [--mode stanza|raw] [--interval S] [--count N] [--retry-ms MS]
 *                   [--node NODE] [--resource R] [--no-publish]
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/time.h>
#include <time.h>

#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_SENML "urn:ietf:params:xml:ns:senml"
#define NS_COMMANDS "http://jabber.org/protocol/commands"
#define NS_XDATA "jabber:x:data"

static struct {
  const char *host, *jid, *password, *ca, *node, *resource;
  unsigned short port;
  int raw;
  double interval_s;
  long count;
  long retry_ms;
  int publish;
} opt = {"127.0.0.1", NULL, NULL, NULL, "urn:xiot:telemetry:0", "xiot", 5222, 0, 1.0, 0, 100, 1};

static xmpp_ctx_t *ctx;
static xmpp_conn_t *conn;
static volatile sig_atomic_t stop;
static int online, lost, fatal_err;
static int first_publish;
static unsigned long seq, acked;
static unsigned boot_id;
static char basename_[128];
static char full_jid[256];

static double now_real(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long)ts.tv_sec * 1000UL + (unsigned long)(ts.tv_nsec / 1000000);
}

/* The reading: fixed values as the simulated BME280 gives them. */
static const char *const kNames[3] = {"env0.temperature", "env0.humidity", "env0.pressure"};
static const char *const kUnits[3] = {"Cel", "%RH", "Pa"};
static const char *const kValues[3] = {"21.54", "40.1", "101325"};

static void stamp(char *bt, size_t n) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  snprintf(bt, n, "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
  /* trailing zeros dropped, as the agent writes stamps */
  size_t len = strlen(bt);
  while (len > 0 && bt[len - 1] == '0') bt[--len] = '\0';
  if (len > 0 && bt[len - 1] == '.') bt[--len] = '\0';
}

static const char kPublishOptions[] =
    "<publish-options><x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
    "<field var='pubsub#persist_items'><value>true</value></field>"
    "<field var='pubsub#access_model'><value>presence</value></field></x></publish-options>";

static int publish_result(xmpp_conn_t *c, xmpp_stanza_t *st, void *ud) {
  (void)c;
  (void)ud;
  const char *type = xmpp_stanza_get_type(st);
  if (type != NULL && strcmp(type, "result") == 0) {
    ++acked;
    if (opt.count > 0 && (long)acked >= opt.count) {
      printf("done %lu\n", acked);
      fflush(stdout);
      stop = 1;
    }
  } else {
    fprintf(stderr, "floor_publisher: publish answered %s\n", type ? type : "(no type)");
  }
  return 0;
}

static void add_field(xmpp_stanza_t *x, const char *var, const char *value) {
  xmpp_stanza_t *f = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(f, "field");
  xmpp_stanza_set_attribute(f, "var", var);
  if (value != NULL) {
    xmpp_stanza_t *v = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(v, "value");
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);
    xmpp_stanza_set_text(t, value);
    xmpp_stanza_add_child_ex(v, t, 0);
    xmpp_stanza_add_child_ex(f, v, 0);
  }
  xmpp_stanza_add_child_ex(x, f, 0);
}

static void publish_stanza(const char *id, const char *item_id, const char *bt) {
  xmpp_stanza_t *iq = xmpp_iq_new(ctx, "set", id);
  xmpp_stanza_t *pubsub = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(pubsub, "pubsub");
  xmpp_stanza_set_ns(pubsub, NS_PUBSUB);
  xmpp_stanza_t *pub = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(pub, "publish");
  xmpp_stanza_set_attribute(pub, "node", opt.node);
  xmpp_stanza_t *item = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(item, "item");
  xmpp_stanza_set_id(item, item_id);
  xmpp_stanza_t *pack = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(pack, "sensml");
  xmpp_stanza_set_ns(pack, NS_SENML);
  for (int i = 0; i < 3; ++i) {
    xmpp_stanza_t *r = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(r, "senml");
    if (i == 0) {
      xmpp_stanza_set_attribute(r, "bn", basename_);
      xmpp_stanza_set_attribute(r, "bt", bt);
    }
    xmpp_stanza_set_attribute(r, "n", kNames[i]);
    xmpp_stanza_set_attribute(r, "u", kUnits[i]);
    xmpp_stanza_set_attribute(r, "v", kValues[i]);
    xmpp_stanza_add_child_ex(pack, r, 0);
  }
  xmpp_stanza_add_child_ex(item, pack, 0);
  xmpp_stanza_add_child_ex(pub, item, 0);
  xmpp_stanza_add_child_ex(pubsub, pub, 0);
  if (first_publish) {
    xmpp_stanza_t *po = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(po, "publish-options");
    xmpp_stanza_t *x = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, NS_XDATA);
    xmpp_stanza_set_type(x, "submit");
    add_field(x, "FORM_TYPE", "http://jabber.org/protocol/pubsub#publish-options");
    add_field(x, "pubsub#persist_items", "true");
    add_field(x, "pubsub#access_model", "presence");
    xmpp_stanza_add_child_ex(po, x, 0);
    xmpp_stanza_add_child_ex(pubsub, po, 0);
  }
  xmpp_stanza_add_child_ex(iq, pubsub, 0);
  xmpp_send(conn, iq);
  xmpp_stanza_release(iq);
}

static void publish_raw(const char *id, const char *item_id, const char *bt) {
  char buf[2048];
  int n = snprintf(buf, sizeof buf,
                   "<iq type='set' id='%s'><pubsub xmlns='" NS_PUBSUB "'><publish node='%s'><item id='%s'>"
                   "<sensml xmlns='" NS_SENML "'>"
                   "<senml bn='%s' bt='%s' n='%s' u='%s' v='%s'/>"
                   "<senml n='%s' u='%s' v='%s'/><senml n='%s' u='%s' v='%s'/>"
                   "</sensml></item></publish>%s</pubsub></iq>",
                   id, opt.node, item_id, basename_, bt, kNames[0], kUnits[0], kValues[0], kNames[1], kUnits[1],
                   kValues[1], kNames[2], kUnits[2], kValues[2], first_publish ? kPublishOptions : "");
  if (n <= 0 || (size_t)n >= sizeof buf) return;
  xmpp_send_raw(conn, buf, (size_t)n);
}

static int publish_tick(xmpp_conn_t *c, void *ud) {
  (void)c;
  (void)ud;
  if (!online) return 1;
  if (opt.count > 0 && (long)seq >= opt.count) return 1;
  char id[32], item_id[32], bt[32];
  ++seq;
  snprintf(id, sizeof id, "t-%lu", seq);
  snprintf(item_id, sizeof item_id, "%08x-%06lu", boot_id, seq);
  stamp(bt, sizeof bt);
  xmpp_id_handler_add(conn, publish_result, id, NULL);
  if (opt.raw)
    publish_raw(id, item_id, bt);
  else
    publish_stanza(id, item_id, bt);
  first_publish = 0;
  return 1;
}

/* XEP-0050: answer `read` with the reading as a result form, completed. */
static int command_handler(xmpp_conn_t *c, xmpp_stanza_t *st, void *ud) {
  (void)ud;
  const char *type = xmpp_stanza_get_type(st);
  if (type == NULL || strcmp(type, "set") != 0) return 1;
  xmpp_stanza_t *cmd = xmpp_stanza_get_child_by_name_and_ns(st, "command", NS_COMMANDS);
  if (cmd == NULL) return 1;
  const char *node = xmpp_stanza_get_attribute(cmd, "node");
  const char *from = xmpp_stanza_get_from(st);
  const char *id = xmpp_stanza_get_id(st);
  if (from == NULL || id == NULL) return 1;
  int ok = node != NULL && strcmp(node, "read") == 0;
  if (opt.raw || !ok) { /* an unknown node: a raw error in both modes */
    char buf[1536];
    int n;
    if (ok)
      n = snprintf(buf, sizeof buf,
                   "<iq type='result' to='%s' id='%s'><command xmlns='" NS_COMMANDS
                   "' node='read' sessionid='r%lu' status='completed'><x xmlns='" NS_XDATA
                   "' type='result'><field var='%s'><value>%s</value></field><field var='%s'><value>%s</value>"
                   "</field><field var='%s'><value>%s</value></field></x></command></iq>",
                   from, id, seq, kNames[0], kValues[0], kNames[1], kValues[1], kNames[2], kValues[2]);
    else
      n = snprintf(buf, sizeof buf,
                   "<iq type='error' to='%s' id='%s'><error type='cancel'><item-not-found "
                   "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                   from, id);
    if (n > 0 && (size_t)n < sizeof buf) xmpp_send_raw(c, buf, (size_t)n);
    return 1;
  }
  xmpp_stanza_t *res = xmpp_stanza_reply(st);
  xmpp_stanza_set_type(res, "result");
  xmpp_stanza_t *rc = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(rc, "command");
  xmpp_stanza_set_ns(rc, NS_COMMANDS);
  xmpp_stanza_set_attribute(rc, "node", "read");
  xmpp_stanza_set_attribute(rc, "sessionid", "r");
  xmpp_stanza_set_attribute(rc, "status", "completed");
  xmpp_stanza_t *x = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(x, "x");
  xmpp_stanza_set_ns(x, NS_XDATA);
  xmpp_stanza_set_type(x, "result");
  for (int i = 0; i < 3; ++i) add_field(x, kNames[i], kValues[i]);
  xmpp_stanza_add_child_ex(rc, x, 0);
  xmpp_stanza_add_child_ex(res, rc, 0);
  xmpp_send(c, res);
  xmpp_stanza_release(res);
  return 1;
}

static void conn_handler(xmpp_conn_t *c, xmpp_conn_event_t status, int error, xmpp_stream_error_t *se,
                         void *ud) {
  (void)error;
  (void)se;
  (void)ud;
  if (status == XMPP_CONN_CONNECT) {
    xmpp_handler_add(c, command_handler, NS_COMMANDS, "iq", NULL, NULL);
    xmpp_stanza_t *pres = xmpp_presence_new(ctx);
    xmpp_send(c, pres);
    xmpp_stanza_release(pres);
    online = 1;
    first_publish = 1;
    printf("online %.6f\n", now_real());
    fflush(stdout);
    if (opt.publish) {
      unsigned long ms = (unsigned long)(opt.interval_s * 1000.0 + 0.5);
      xmpp_timed_handler_add(c, publish_tick, ms ? ms : 1, NULL);
      publish_tick(c, NULL); /* the first reading at once, as the agent does */
    }
  } else {
    online = 0;
    lost = 1;
  }
}

static int certfail(const xmpp_tlscert_t *cert, const char *errormsg) {
  (void)cert;
  fprintf(stderr, "floor_publisher: server certificate refused: %s\n", errormsg);
  fatal_err = 1;
  return 0;
}

static int connect_once(void) {
  if (conn != NULL) xmpp_conn_release(conn);
  conn = xmpp_conn_new(ctx);
  xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS);
  xmpp_conn_set_cafile(conn, opt.ca);
  xmpp_conn_set_certfail_handler(conn, certfail);
  xmpp_conn_set_jid(conn, full_jid);
  xmpp_conn_set_pass(conn, opt.password);
  lost = 0;
  return xmpp_connect_client(conn, opt.host, opt.port, conn_handler, NULL);
}

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: floor_publisher --jid J --password PW --ca FILE [--host H] [--port P] [--mode stanza|raw]\n"
          "                       [--interval S] [--count N] [--retry-ms MS] [--node NODE] [--resource R]\n"
          "                       [--no-publish]\n");
  exit(2);
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, 0, 'h'},     {"port", required_argument, 0, 'p'},
      {"jid", required_argument, 0, 'j'},      {"password", required_argument, 0, 'w'},
      {"ca", required_argument, 0, 'c'},       {"mode", required_argument, 0, 'm'},
      {"interval", required_argument, 0, 'i'}, {"count", required_argument, 0, 'n'},
      {"retry-ms", required_argument, 0, 'r'}, {"node", required_argument, 0, 'N'},
      {"resource", required_argument, 0, 'R'}, {"no-publish", no_argument, 0, 'P'},
      {0, 0, 0, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
      case 'h': opt.host = optarg; break;
      case 'p': opt.port = (unsigned short)atoi(optarg); break;
      case 'j': opt.jid = optarg; break;
      case 'w': opt.password = optarg; break;
      case 'c': opt.ca = optarg; break;
      case 'm':
        if (strcmp(optarg, "raw") == 0) opt.raw = 1;
        else if (strcmp(optarg, "stanza") == 0) opt.raw = 0;
        else usage();
        break;
      case 'i': opt.interval_s = atof(optarg); break;
      case 'n': opt.count = atol(optarg); break;
      case 'r': opt.retry_ms = atol(optarg); break;
      case 'N': opt.node = optarg; break;
      case 'R': opt.resource = optarg; break;
      case 'P': opt.publish = 0; break;
      default: usage();
    }
  }
  if (opt.jid == NULL || opt.password == NULL || opt.ca == NULL || opt.interval_s <= 0) usage();
  snprintf(full_jid, sizeof full_jid, "%s/%s", opt.jid, opt.resource);
  /* SenML base name: the bare JID with bytes outside A-Za-z0-9-:./_ as '_', then ':' */
  size_t k = 0;
  for (const char *p = opt.jid; *p && k + 2 < sizeof basename_; ++p) {
    char c = *p;
    int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == ':' || c == '.' || c == '/' || c == '_';
    basename_[k++] = keep ? c : '_';
  }
  basename_[k++] = ':';
  basename_[k] = '\0';
  srand((unsigned)(now_real() * 1e6));
  boot_id = (unsigned)rand();

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  /* As the agent does (DESIGN.md, libstrophe facts): OpenSSL's default paths at
   * the CA file, so the whole system bundle is not loaded on every connect. */
  setenv("SSL_CERT_FILE", opt.ca, 1);
  xmpp_initialize();
  ctx = xmpp_ctx_new(NULL, NULL);
  unsigned long next_attempt = 0;
  if (connect_once() != XMPP_EOK) {
    lost = 1;
    next_attempt = now_ms() + (unsigned long)opt.retry_ms;
  }
  while (!stop && !fatal_err) {
    xmpp_run_once(ctx, lost ? 10 : 1000); /* libstrophe wakes earlier for its timed handlers */
    if (lost && !stop && !fatal_err) {
      unsigned long t = now_ms();
      if (next_attempt == 0) next_attempt = t; /* the first attempt at once */
      if (t >= next_attempt) {
        next_attempt = t + (unsigned long)opt.retry_ms;
        if (connect_once() != XMPP_EOK) lost = 1;
      }
    } else if (online) {
      next_attempt = 0;
    }
  }
  if (conn != NULL) {
    if (online) {
      xmpp_disconnect(conn);
      for (int i = 0; i < 50 && online; ++i) xmpp_run_once(ctx, 10);
    }
    xmpp_conn_release(conn);
  }
  printf("stop published %lu acked %lu\n", seq, acked);
  fflush(stdout);
  xmpp_ctx_free(ctx);
  xmpp_shutdown();
  return fatal_err ? 3 : 0;
}
