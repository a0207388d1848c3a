/* libjpeg-turbo configuration for edge-cnn's Wasm decoder (what CMake would generate from
 * jconfig.h.in): 8-bit samples, no SIMD, arithmetic decoding on, in-memory source. */
#define JPEG_LIB_VERSION  62
#define LIBJPEG_TURBO_VERSION  2.1.5.1
#define LIBJPEG_TURBO_VERSION_NUMBER  2001005
#define D_ARITH_CODING_SUPPORTED 1
#define MEM_SRCDST_SUPPORTED 1
#define BITS_IN_JSAMPLE  8
