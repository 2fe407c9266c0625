/* dispatch.h — from a request frame to its API handler. */
#ifndef EDDY_FE_DISPATCH_H
#define EDDY_FE_DISPATCH_H

#include "fe.h"

/** Route a freshly read request: check key, version and authentication,
 *  read the header and call the handler, which owns @p req from then on. */
void fe_dispatch(fe_req *req);

#endif
