#include "sim/hw/topology.h"

namespace quiesce {

const char* distance_name(Distance d) {
  switch (d) {
    case Distance::SameCore: return "same_core";
    case Distance::SameCluster: return "same_cluster";
    case Distance::SameSocket: return "same_socket";
    case Distance::CrossSocket: return "cross_socket";
  }
  return "?";
}

}  // namespace quiesce
