/* frameclass.c - frame class names (frameclass.h). */
#include "profiler/format/frameclass.h"

const char *np_class_name(uint8_t cls)
{
	switch (cls) {
	case NP_CLS_APP:
		return "app";
	case NP_CLS_LIB:
		return "lib";
	case NP_CLS_KNET:
		return "kernel-net";
	case NP_CLS_KERNEL:
		return "kernel";
	default:
		return "?";
	}
}
