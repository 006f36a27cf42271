/* GSL errors are data, not crashes (STYLE.md rule 9): the default handler
 * aborts the process, so every fit turns it off first and checks statuses. */
#include <gsl/gsl_errno.h>

#include "hybench/fit.h"

void hb_fit_gsl_init(void) { gsl_set_error_handler_off(); }
