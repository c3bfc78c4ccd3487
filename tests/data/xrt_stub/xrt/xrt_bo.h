// Declarations only (see xrt_device.h).
#pragma once
#include <cstddef>
#include "xrt/xrt_device.h"
enum xclBOSyncDirection { XCL_BO_SYNC_BO_TO_DEVICE = 0, XCL_BO_SYNC_BO_FROM_DEVICE };
namespace xrt {
using memory_group = unsigned int;
class bo {
public:
    bo(const device& device, size_t sz, memory_group grp);
    void write(const void* src);
    void read(void* dst);
    void sync(xclBOSyncDirection dir);
};
}  // namespace xrt
