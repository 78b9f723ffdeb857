// C accessors for the MPI handles Swift cannot import.
//
// Open MPI defines MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ... as casts of the addresses
// of library globals, and MPI_IN_PLACE as `(void *) 1`; the Swift importer only takes
// macros that are plain literals. Each accessor below returns one such handle; they are
// `static inline`, so nothing here needs compiling or linking beyond libmpi itself.
#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H

#include <mpi.h>

// The communicator.
static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }

// Datatypes.
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }

// Threads (the collective watchdog's roll call runs on a thread of its own).
static inline int cmpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static inline int cmpi_thread_single(void) { return MPI_THREAD_SINGLE; }

// Point-to-point, for the watchdog's side channel.
static inline int cmpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }

// Node-local sub-communicators.
static inline int cmpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline MPI_Info cmpi_info_null(void) { return MPI_INFO_NULL; }

// The reduction.
static inline MPI_Op cmpi_sum(void) { return MPI_SUM; }

// The send-buffer marker for in-place collectives: `(void *) 1`.
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }

// Error handling.
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int cmpi_success(void) { return MPI_SUCCESS; }
static inline int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
