// Topology: SMT siblings, named levels of equal or listed groups, the distance of every
// pair, which distances occur, and which CPUs share a last-level cache.
#include <gtest/gtest.h>

#include "sim/hw/topology.h"

namespace quiesce {
namespace {

std::string dist(const Topology& t, int a, int b) { return t.distance_name(t.distance(a, b)); }

// Two sockets of two 4-core clusters, SMT2: 32 CPUs, siblings adjacent.
TEST(Topology, SmtClustersAndSocketsGiveEachPairItsDistance) {
  const Topology t(32, 2, {{"cluster", 4, {}}, {"socket", 2, {}}});
  EXPECT_EQ(t.physical_cores(), 16);
  EXPECT_EQ(t.core_of(5), 2);
  EXPECT_EQ(dist(t, 0, 0), "same_cpu");
  EXPECT_EQ(dist(t, 0, 1), "smt");
  EXPECT_EQ(dist(t, 0, 2), "cluster");
  EXPECT_EQ(dist(t, 1, 7), "cluster");
  EXPECT_EQ(dist(t, 0, 8), "socket");
  EXPECT_EQ(dist(t, 0, 15), "socket");
  EXPECT_EQ(dist(t, 0, 16), "system");
  EXPECT_EQ(dist(t, 31, 0), "system");
  for (const char* d : {"smt", "cluster", "socket", "system"}) EXPECT_TRUE(t.has_distance(t.find_distance(d))) << d;
  EXPECT_EQ(t.find_distance("ccx"), -1);
  // The last-level cache defaults to the outermost level.
  EXPECT_TRUE(t.share_cache(0, 15));
  EXPECT_FALSE(t.share_cache(0, 16));
  EXPECT_EQ(t.describe(), "32 CPUs: 16 cores x 2 threads; cluster of 4; socket of 2");
}

// Apple M1 Pro: an E cluster of 2 and two P clusters of 3, each naming its distance.
TEST(Topology, ListedGroupsNameTheirOwnDistances) {
  const Topology t(8, 1, {{"cluster", 0, {{"e_cluster", 2}, {"p_cluster", 3}, {"p_cluster", 3}}}, {"soc", 0, {}}},
                   "cluster");
  EXPECT_EQ(dist(t, 0, 1), "e_cluster");
  EXPECT_EQ(dist(t, 2, 4), "p_cluster");
  EXPECT_EQ(dist(t, 5, 7), "p_cluster");
  EXPECT_EQ(dist(t, 1, 2), "soc");
  EXPECT_EQ(dist(t, 4, 5), "soc") << "two P clusters are two groups";
  EXPECT_FALSE(t.has_distance(kSmtSibling));
  EXPECT_FALSE(t.has_distance(t.find_distance("system"))) << "soc holds every cluster";
  EXPECT_TRUE(t.share_cache(2, 4));
  EXPECT_FALSE(t.share_cache(4, 5));
}

// Eight sockets in two groups of four across an interconnect tier: three levels above cores.
TEST(Topology, AnEightSocketMachineWithSocketGroups) {
  const Topology t(8 * 24, 1, {{"socket", 24, {}}, {"group", 4, {}}, {"machine", 0, {}}});
  EXPECT_EQ(dist(t, 0, 23), "socket");
  EXPECT_EQ(dist(t, 0, 24), "group");
  EXPECT_EQ(dist(t, 0, 95), "group");
  EXPECT_EQ(dist(t, 0, 96), "machine");
  EXPECT_FALSE(t.has_distance(t.find_distance("system")));
}

// A partial last group, and 1024 CPUs.
TEST(Topology, PartialGroupsAndTheLargestMachine) {
  const Topology t(10, 1, {{"cluster", 4, {}}});
  EXPECT_EQ(dist(t, 8, 9), "cluster");
  EXPECT_EQ(dist(t, 7, 8), "system");
  const Topology big(1024, 2, {{"ccx", 8, {}}, {"socket", 8, {}}});
  EXPECT_EQ(dist(big, 1022, 1023), "smt");
  EXPECT_EQ(dist(big, 0, 1023), "system");
  EXPECT_EQ(dist(big, 0, 127), "socket");
}

TEST(Topology, WhatDoesNotFitIsRefusedWithTheReason) {
  auto error = [](auto make) {
    try {
      make();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(error([] { Topology(6, 4, {}); }), "6 CPUs do not make whole cores of 4 threads");
  EXPECT_EQ(error([] { Topology(8, 1, {{"smt", 2, {}}}); }), "level 1 ('smt'): 'smt' is a reserved distance name");
  EXPECT_EQ(error([] { Topology(8, 1, {{"a", 2, {}}, {"a", 2, {}}}); }), "level 2 ('a'): two levels are named 'a'");
  EXPECT_EQ(error([] { Topology(8, 1, {{"Ccx", 2, {}}}); }),
            "level 1: a level is named in lower case letters, digits and _, got 'Ccx'");
  EXPECT_EQ(error([] { Topology(8, 1, {{"c", 0, {{"", 2}, {"", 3}}}}); }),
            "level 1 ('c'): its groups hold 5 units, but the level below has 8 cores");
  EXPECT_EQ(error([] { Topology(8, 1, {{"c", 4, {}}}, "socket"); }),
            "the last-level cache level 'socket' is not one of the levels");
}

}  // namespace
}  // namespace quiesce
