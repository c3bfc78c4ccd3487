// qloom_tree.vh: tree_n, the node count of a balanced binary tree's levels, shared by the
// adder and popcount trees (qloom_mvau, qloom_vvau, qloom_mul_lane, qloom_popcount).
//
//   module qloom_x #(...) (...);
//       `include "qloom_tree.vh"
//
// tree_n(n0, l): nodes at level l of a tree whose level 0 has n0 nodes, each level
// pairing the one below (an odd node passes up alone): ceil(n0 / 2^l).
// Included inside each module body (a function is local to its module), so no include
// guard; the generator copies it with the modules (their `// Depends on:` lines).
    function integer tree_n(input integer n0, input integer l);
        integer i, n;
        begin
            n = n0;
            for (i = 0; i < l; i = i + 1) n = (n + 1) / 2;
            tree_n = n;
        end
    endfunction
