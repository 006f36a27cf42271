/* One run of GSL's nonlinear least squares from a start point, shared by the
 * fits that search from many starts (emergence.c, step.c). */
#ifndef HYBENCH_FIT_NLINEAR_H
#define HYBENCH_FIT_NLINEAR_H

#include <gsl/gsl_multifit_nlinear.h>

/* Initialises w at p0 and drives it (trust region, at most maxiter steps).
 * Returns GSL's status; *ssr is the residual sum of squares at the end point
 * and *finite whether it and every parameter there are finite. */
int hb_nlinear_run(gsl_multifit_nlinear_workspace *w, gsl_multifit_nlinear_fdf *fdf, const gsl_vector *p0,
                   size_t maxiter, double xtol, double gtol, double *ssr, int *finite);

#endif
