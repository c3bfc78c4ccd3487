// Declarations only, for tests/test_deploy.py: the parts of XRT's native C++ API (xrt/xrt_device.h,
// xrt/xrt_kernel.h, xrt/xrt_bo.h; signatures as documented in the XRT "Native APIs" guide) that
// qloom's host.cpp uses, so g++ -fsyntax-only checks the program without XRT installed.
#pragma once
#include <string>
namespace xrt {
class uuid {};
class device {
public:
    explicit device(unsigned int index);
    uuid load_xclbin(const std::string& fnm);
};
}  // namespace xrt
