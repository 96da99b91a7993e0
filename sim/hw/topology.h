#pragma once
// Which cores share a cluster and a socket, and so how far a cache line travels between
// two of them. Cores are numbered cluster by cluster, socket by socket.
#include <cstdint>
#include <string>

namespace quiesce {

enum class Distance : uint8_t { SameCore, SameCluster, SameSocket, CrossSocket };
inline constexpr int kDistanceCount = 4;

const char* distance_name(Distance d);

struct Topology {
  int cores = 1;
  int cores_per_cluster = 1;
  int clusters_per_socket = 1;

  int cluster_of(int cpu) const { return cpu / cores_per_cluster; }
  int socket_of(int cpu) const { return cpu / (cores_per_cluster * clusters_per_socket); }
  int sockets() const {
    int per = cores_per_cluster * clusters_per_socket;
    return (cores + per - 1) / per;
  }
  Distance distance(int a, int b) const {
    if (a == b) return Distance::SameCore;
    if (cluster_of(a) == cluster_of(b)) return Distance::SameCluster;
    if (socket_of(a) == socket_of(b)) return Distance::SameSocket;
    return Distance::CrossSocket;
  }
};

// Simulated physical address.
using Addr = uint64_t;

}  // namespace quiesce
