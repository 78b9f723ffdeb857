// The C loops NN calls (see each header).
#include "depthwise.h"
#include "batchnorm.h"
#include "multiply_add_peak.h"
#include "smooth.h"
