/* duration.c: "0.3ms"-style durations -> microseconds; no Python. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tracer.h"

enum vt_err
vt_tracer_parse_duration(const char *text, double *us)
{
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {{"ns", 1e-3}, {"us", 1.0}, {"ms", 1e3}, {"s", 1e6}, {"", 1.0}};
    if (text == NULL || *text == '\0')
        return VT_ERR_FORMAT;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno != 0 || !isfinite(v) || v < 0)
        return VT_ERR_FORMAT;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            *us = v * units[i].scale;
            return VT_OK;
        }
    }
    return VT_ERR_FORMAT;
}
