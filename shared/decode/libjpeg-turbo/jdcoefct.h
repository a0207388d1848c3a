/*
 * jdcoefct.h
 *
 * This file was part of the Independent JPEG Group's software:
 * Copyright (C) 1994-1997, Thomas G. Lane.
 * libjpeg-turbo Modifications:
 * Copyright 2009 Pierre Ossman <ossman@cendio.se> for Cendio AB
 * Copyright (C) 2020, Google, Inc.
 * For conditions of distribution and use, see the accompanying README.ijg
 * file.
 */

#define JPEG_INTERNALS
#include "jpeglib.h"


/* Block smoothing is only applicable for progressive JPEG, so: */
#ifndef D_PROGRESSIVE_SUPPORTED
#undef BLOCK_SMOOTHING_SUPPORTED
#endif


/* edge-cnn: compact storage for the coefficients of a component whose reduced
 * inverse DCT reads only some of them (1x1 reads the DC; 2x2 reads rows and
 * columns 0, 1, 3, 5 and 7), used in place of its full-image virtual array
 * when a multi-scan file is decoded straight through (not buffered-image,
 * no block smoothing).  A block keeps the values the IDCT reads and, for the
 * rest, only whether each is nonzero: a progressive refinement scan's
 * parsing depends on that alone, and their values are never used.  A 12 MP
 * 4:2:0 progressive photo at 1/8 needs 10 bytes per luma block and 58 per
 * chroma block instead of 128 (shared/decode/jpeg-scans.ts,
 * coefficientBytes, counts the same sizes for the memory limit).
 */
typedef struct {
  JDIMENSION blocks_per_row;     /* padded as the virtual array would be */
  int nkept;                     /* values kept per block */
  int kept_before[DCTSIZE2 + 1]; /* kept values before zigzag position k
                                    (a kept coefficient's index) */
  unsigned long long kept_mask;  /* zigzag positions of the kept values */
  unsigned char zigzag_of[DCTSIZE2]; /* natural position -> zigzag position */
  JCOEF *kept;                   /* nkept values per block (zero where the
                                    nonzero bit is clear) */
  unsigned long long *nonzero;   /* per block: bit k set if the zigzag
                                    coefficient k is nonzero */
} compact_coefficients;


/* Private buffer controller object */

typedef struct {
  struct jpeg_d_coef_controller pub; /* public fields */

  /* These variables keep track of the current location of the input side. */
  /* cinfo->input_iMCU_row is also used for this. */
  JDIMENSION MCU_ctr;           /* counts MCUs processed in current row */
  int MCU_vert_offset;          /* counts MCU rows within iMCU row */
  int MCU_rows_per_iMCU_row;    /* number of such rows needed */

  /* The output side's location is represented by cinfo->output_iMCU_row. */

  /* In single-pass modes, it's sufficient to buffer just one MCU.
   * We allocate a workspace of D_MAX_BLOCKS_IN_MCU coefficient blocks,
   * and let the entropy decoder write into that workspace each time.
   * In multi-pass modes, this array points to the current MCU's blocks
   * within the virtual arrays; it is used only by the input side.
   */
  JBLOCKROW MCU_buffer[D_MAX_BLOCKS_IN_MCU];

  /* Temporary workspace for one MCU */
  JCOEF *workspace;

#ifdef D_MULTISCAN_FILES_SUPPORTED
  /* In multi-pass modes, we need a virtual block array for each component. */
  jvirt_barray_ptr whole_image[MAX_COMPONENTS];

  /* edge-cnn: compact storage per component (NULL: it uses whole_image), a
   * scratch block per block of an MCU for them, and where each came from.
   */
  compact_coefficients *compact[MAX_COMPONENTS];
  JBLOCKROW compact_scratch;     /* D_MAX_BLOCKS_IN_MCU + 1 blocks (the last
                                    one for the inverse DCT) */
  compact_coefficients *compact_source[D_MAX_BLOCKS_IN_MCU];
  JDIMENSION compact_block[D_MAX_BLOCKS_IN_MCU];
  unsigned long long compact_nonzero[1]; /* the mask of the block of a
                                    one-component scan, for the entropy
                                    decoder */
#endif

#ifdef BLOCK_SMOOTHING_SUPPORTED
  /* When doing block smoothing, we latch coefficient Al values here */
  int *coef_bits_latch;
#define SAVED_COEFS  10         /* we save coef_bits[0..9] */
#endif
} my_coef_controller;

typedef my_coef_controller *my_coef_ptr;


LOCAL(void)
start_iMCU_row(j_decompress_ptr cinfo)
/* Reset within-iMCU-row counters for a new row (input side) */
{
  my_coef_ptr coef = (my_coef_ptr)cinfo->coef;

  /* In an interleaved scan, an MCU row is the same as an iMCU row.
   * In a noninterleaved scan, an iMCU row has v_samp_factor MCU rows.
   * But at the bottom of the image, process only what's left.
   */
  if (cinfo->comps_in_scan > 1) {
    coef->MCU_rows_per_iMCU_row = 1;
  } else {
    if (cinfo->input_iMCU_row < (cinfo->total_iMCU_rows - 1))
      coef->MCU_rows_per_iMCU_row = cinfo->cur_comp_info[0]->v_samp_factor;
    else
      coef->MCU_rows_per_iMCU_row = cinfo->cur_comp_info[0]->last_row_height;
  }

  coef->MCU_ctr = 0;
  coef->MCU_vert_offset = 0;
}
