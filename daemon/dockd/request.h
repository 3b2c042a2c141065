/* request.h — the worker that runs one dockctl request for dockd: started
 * by dockd as `dockd --serve-request` with the caller's socket on fd 3, the
 * config dockd read on fd 4 and the caller's files after them; it takes the
 * caller's role from the socket's credentials, runs the verb, and frames
 * its stdout, stderr and exit status back (ctlproto.h). */
#pragma once

/* argv: the worker's options, "--", then the verb and its arguments. */
int request_serve(int argc, char **argv);
