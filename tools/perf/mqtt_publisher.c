/* tools/perf/mqtt_publisher.c - the MQTT comparison of tools/perf-suite: a
 * libmosquitto client that publishes the same reading as the agent (the
 * BME280's temperature, humidity, pressure) every --interval seconds as 12
 * binary bytes (three little-endian int32: centi-degC, deci-%RH, Pa) with
 * QoS 1 to topic xiot/<user>/telemetry. TLS (server certificate verified
 * against --ca) unless --plain; username/password login.
 *
 * Reconnect policy as the floor publisher's: at once, then every --retry-ms.
 * stdout: `online <unix time s>` on each CONNACK, `done <acked>` after --count
 * PUBACKs, `stop published <n> acked <m>` at exit.
 *
 *   mqtt_publisher --port P --user U --password PW (--ca FILE | --plain)
 *                  [--host H] [--interval S] [--count N] [--retry-ms MS]
 *                  [--id CLIENT_ID]   (default: the user name)
 */
#include <getopt.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;
static int online, lost;
static long count, acked, sent;

static double now_real(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_connect(struct mosquitto *m, void *ud, int rc) {
  (void)m;
  (void)ud;
  if (rc != 0) {
    fprintf(stderr, "mqtt_publisher: connection refused: %s\n", mosquitto_connack_string(rc));
    lost = 1;
    return;
  }
  online = 1;
  printf("online %.6f\n", now_real());
  fflush(stdout);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc) {
  (void)m;
  (void)ud;
  (void)rc;
  online = 0;
  lost = 1;
}

static void on_publish(struct mosquitto *m, void *ud, int mid) {
  (void)m;
  (void)ud;
  (void)mid;
  ++acked;
  if (count > 0 && acked >= count) {
    printf("done %ld\n", acked);
    fflush(stdout);
    stop = 1;
  }
}

static void put_le32(uint8_t *p, int32_t v) {
  uint32_t u = (uint32_t)v;
  p[0] = (uint8_t)u;
  p[1] = (uint8_t)(u >> 8);
  p[2] = (uint8_t)(u >> 16);
  p[3] = (uint8_t)(u >> 24);
}

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: mqtt_publisher --port P --user U --password PW (--ca FILE | --plain) [--host H]\n"
          "                      [--interval S] [--count N] [--retry-ms MS] [--id CLIENT_ID]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *user = NULL, *password = NULL, *ca = NULL, *client_id = NULL;
  int port = 8883, plain = 0;
  double interval = 1.0;
  long retry_ms = 100;
  static const struct option longopts[] = {
      {"host", required_argument, 0, 'h'},     {"port", required_argument, 0, 'p'},
      {"user", required_argument, 0, 'u'},     {"password", required_argument, 0, 'w'},
      {"ca", required_argument, 0, 'c'},       {"plain", no_argument, 0, 'P'},
      {"interval", required_argument, 0, 'i'}, {"count", required_argument, 0, 'n'},
      {"retry-ms", required_argument, 0, 'r'}, {"id", required_argument, 0, 'I'},
      {0, 0, 0, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
      case 'h': host = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 'u': user = optarg; break;
      case 'w': password = optarg; break;
      case 'c': ca = optarg; break;
      case 'P': plain = 1; break;
      case 'i': interval = atof(optarg); break;
      case 'n': count = atol(optarg); break;
      case 'r': retry_ms = atol(optarg); break;
      case 'I': client_id = optarg; break;
      default: usage();
    }
  }
  if (user == NULL || password == NULL || (ca == NULL && !plain) || interval <= 0) usage();
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);

  char topic[128];
  snprintf(topic, sizeof topic, "xiot/%s/telemetry", user);
  mosquitto_lib_init();
  struct mosquitto *m = mosquitto_new(client_id ? client_id : user, true, NULL);
  if (m == NULL) {
    fprintf(stderr, "mqtt_publisher: mosquitto_new failed\n");
    return 1;
  }
  mosquitto_username_pw_set(m, user, password);
  if (!plain) {
    int rc = mosquitto_tls_set(m, ca, NULL, NULL, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
      fprintf(stderr, "mqtt_publisher: --ca %s: %s\n", ca, mosquitto_strerror(rc));
      return 1;
    }
  }
  mosquitto_connect_callback_set(m, on_connect);
  mosquitto_disconnect_callback_set(m, on_disconnect);
  mosquitto_publish_callback_set(m, on_publish);

  if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) lost = 1;
  double next_pub = 0, next_attempt = 0;
  while (!stop) {
    if (lost) {
      double t = now_mono();
      if (next_attempt == 0) next_attempt = t; /* the first attempt at once */
      if (t >= next_attempt) {
        next_attempt = t + retry_ms / 1000.0;
        lost = mosquitto_reconnect(m) != MOSQ_ERR_SUCCESS;
      } else {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
      }
      continue;
    }
    if (online) next_attempt = 0;
    double t = now_mono();
    if (online && (count == 0 || sent < count) && t >= next_pub) {
      uint8_t payload[12];
      put_le32(payload, 2154);
      put_le32(payload + 4, 401);
      put_le32(payload + 8, 101325);
      mosquitto_publish(m, NULL, topic, sizeof payload, payload, 1, false);
      ++sent;
      next_pub = (next_pub == 0 ? t : next_pub) + interval;
      if (next_pub < t) next_pub = t + interval;
    }
    int wait_ms = online ? (int)((next_pub - now_mono()) * 1000.0) : 10;
    if (wait_ms < 0) wait_ms = 0;
    if (wait_ms > 1000) wait_ms = 1000;
    int rc = mosquitto_loop(m, wait_ms, 1);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
      online = 0;
      lost = 1;
    } else if (rc == MOSQ_ERR_NO_CONN) {
      lost = 1;
    }
  }
  if (online) {
    mosquitto_disconnect(m);
    mosquitto_loop(m, 50, 1);
  }
  printf("stop published %ld acked %ld\n", sent, acked);
  fflush(stdout);
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  return 0;
}
