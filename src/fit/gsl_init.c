/* GSL errors are data, not crashes (STYLE.md rule 9): the default handler
 * aborts the process, so every fit turns it off first and checks statuses.
 * Also the one nonlinear least-squares run of src/fit/nlinear.h. */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <math.h>

#include "hybench/fit.h"
#include "nlinear.h"

void hb_fit_gsl_init(void) { gsl_set_error_handler_off(); }

int hb_nlinear_run(gsl_multifit_nlinear_workspace *w, gsl_multifit_nlinear_fdf *fdf, const gsl_vector *p0,
                   size_t maxiter, double xtol, double gtol, double *ssr, int *finite) {
  int info = 0, status = gsl_multifit_nlinear_init(p0, fdf, w);
  if (status == GSL_SUCCESS) status = gsl_multifit_nlinear_driver(maxiter, xtol, gtol, 0.0, NULL, NULL, &info, w);
  *ssr = NAN;
  int dot = gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), ssr);
  const gsl_vector *x = gsl_multifit_nlinear_position(w);
  *finite = dot == GSL_SUCCESS && isfinite(*ssr);
  for (size_t k = 0; k < x->size; k++) *finite &= isfinite(gsl_vector_get(x, k));
  return status;
}
