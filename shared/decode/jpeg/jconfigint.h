/* libjpeg-turbo internal configuration for edge-cnn's Wasm decoder (from jconfigint.h.in). */
#define BUILD  "edge-cnn"
#undef inline
#define INLINE  __inline__ __attribute__((always_inline))
#define THREAD_LOCAL
#define PACKAGE_NAME  "libjpeg-turbo"
#define VERSION  "2.1.5.1"
#define SIZEOF_SIZE_T  4
#define HAVE_BUILTIN_CTZL
#define FALLTHROUGH  __attribute__((fallthrough));
/* No JPEGMEM environment variable: there is no environment in Wasm. */
#define NO_GETENV
#define NO_PUTENV
