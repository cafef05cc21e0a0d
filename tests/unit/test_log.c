/* test_log.c - every event is one JSON object on one line, with time,
 * level and event first, fields after, and the level threshold applied. */
#include <stdlib.h>

#include "core/log.h"
#include "harness.h"

static void test_lines(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    struct logger *l = NULL;
    enum log_level lv = LOG_DEBUG;
    json_error_t e;
    json_t *first;
    char *nl;

    T_TRUE(mem != NULL);
    if (mem == NULL)
        return;
    T_EQ_INT(log_init(&l, mem, LOG_INFO), 0);
    log_event(l, LOG_DEBUG, "dropped", json_pack("{s:i}", "n", 1));
    log_event(l, LOG_INFO, "job.fired", json_pack("{s:s, s:i}", "job", "a\"b", "started", 2));
    log_event(l, LOG_ERROR, "plain", NULL);
    log_event(NULL, LOG_ERROR, "no logger", json_object());
    log_free(&l);
    fclose(mem);
    T_TRUE(strstr(buf, "dropped") == NULL);
    nl = strchr(buf, '\n');
    T_TRUE(nl != NULL);
    if (nl == NULL) {
        free(buf);
        return;
    }
    *nl = '\0';
    T_TRUE(strncmp(buf, "{\"time\":\"", 9) == 0);
    T_HAS_STR(buf, "\"level\":\"info\",\"event\":\"job.fired\",\"job\":\"a\\\"b\",\"started\":2}");
    first = json_loads(buf, 0, &e);
    T_TRUE(first != NULL);
    json_decref(first);
    T_HAS_STR(nl + 1, "\"level\":\"error\",\"event\":\"plain\"}\n");
    free(buf);
    T_EQ_INT(log_level_parse("WARNING", &lv), 0);
    T_EQ_INT(lv, LOG_WARN);
    T_EQ_INT(log_level_parse("Debug", &lv), 0);
    T_EQ_INT(lv, LOG_DEBUG);
    T_EQ_INT(log_level_parse("loud", &lv), -1);
}

static const struct test_case cases[] = {
    {"lines", test_lines},
};

TEST_MAIN("log", cases)
