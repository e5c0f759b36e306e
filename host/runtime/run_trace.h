/* The step's timeline as files: DIR/timeline.csv (--trace DIR) and the Chrome trace-event JSON
 * that Perfetto and chrome://tracing open (--trace-events PATH). docs/runtime.md, "Timeline". */
#ifndef ACCPAR_RUN_TRACE_H
#define ACCPAR_RUN_TRACE_H

#include "run_ctx.h"

/* Declares path, given with flag, an output of the step (output_set.h). -1 with "FLAG: why" in
 * c->err. */
int run_trace_output(run_ctx *c, const char *flag, const char *path);

/* Declares the timeline outputs the options ask for (output_set.h). -1 with c->err. */
int run_trace_declare(run_ctx *c);

/* Writes them from c->events. -1 with c->err. */
int run_trace_write(run_ctx *c);

#endif
