#include <cstdio>

int main() {
  std::puts("nnfi " NNFI_VERSION);
  return 0;
}
