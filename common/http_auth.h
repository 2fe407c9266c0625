/* http_auth.h — the optional Bearer token of the stats endpoints (frontend
 * and broker). */
#ifndef EDDY_HTTP_AUTH_H
#define EDDY_HTTP_AUTH_H

#include <stdbool.h>

/** True when the Authorization header value @p auth (NULL when absent) is
 *  "Bearer <token>" with @p token, compared in time independent of where
 *  they differ; always true when @p token is NULL or empty (no token set).
 *  Both strings stay the caller's. */
bool http_bearer_ok(const char *token, const char *auth);

#endif
