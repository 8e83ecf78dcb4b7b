/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "hd-error.h"

G_DEFINE_QUARK(hd-error-quark, hd_error)

const char *hd_error_code_name(const GError *error)
{
        if (error->domain != HD_ERROR)
                return "failed";
        switch ((HdError)error->code) {
        case HD_ERROR_INVALID_ARGUMENT:
                return "invalid-argument";
        case HD_ERROR_NOT_FOUND:
                return "not-found";
        case HD_ERROR_REFUSED:
                return "refused";
        case HD_ERROR_BUSY:
                return "busy";
        case HD_ERROR_NOT_SUPPORTED:
                return "not-supported";
        case HD_ERROR_NOT_SYSFS:
                return "not-sysfs";
        case HD_ERROR_FAILED:
                break;
        }
        return "failed";
}
