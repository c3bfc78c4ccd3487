# Vivado commands as Tcl procs for tests/test_deploy.py: each records its call in
# $::stub_log and checks that the objects it names exist (project, files, IP definitions,
# block-design cells and their pins, runs). Anything not defined here is an unknown command
# (Tcl's own "invalid command name"). State that Vivado keeps on disk between batch runs
# (projects, the packaged IP, the saved block design, run results) is kept on disk too.
#
# Set before sourcing: ::ip_ports (the packaged top's ports, read from its Verilog by the
# test), ::stub_log (the call log file).
#
# Pins of the Xilinx IPs (names from the IP product guides: PG082 processing_system7,
# PG201 zynq_ultra_ps_e, PG021 axi_dma, PG164 proc_sys_reset).

set ::ipdefs {
    xilinx.com:ip:processing_system7:5.5 xilinx.com:ip:zynq_ultra_ps_e:3.3 xilinx.com:ip:zynq_ultra_ps_e:3.5
    xilinx.com:ip:axi_dma:7.1 xilinx.com:ip:proc_sys_reset:5.0
}
array set ::ip_pins {
    processing_system7 {FCLK_CLK0 FCLK_RESET0_N M_AXI_GP0_ACLK S_AXI_HP0_ACLK}
    processing_system7,intf {M_AXI_GP0 S_AXI_HP0 DDR FIXED_IO}
    zynq_ultra_ps_e {pl_clk0 pl_resetn0 maxihpm0_fpd_aclk saxihp0_fpd_aclk}
    zynq_ultra_ps_e,intf {M_AXI_HPM0_FPD M_AXI_HPM1_FPD S_AXI_HP0_FPD}
    axi_dma {s_axi_lite_aclk m_axi_mm2s_aclk m_axi_s2mm_aclk axi_resetn mm2s_introut s2mm_introut}
    axi_dma,intf {S_AXI_LITE M_AXI_MM2S M_AXI_S2MM M_AXIS_MM2S S_AXIS_S2MM}
    proc_sys_reset {slowest_sync_clk ext_reset_in aux_reset_in mb_debug_sys_rst dcm_locked peripheral_aresetn interconnect_aresetn peripheral_reset}
    proc_sys_reset,intf {}
}
set ::rules {xilinx.com:bd_rule:processing_system7 xilinx.com:bd_rule:zynq_ultra_ps_e xilinx.com:bd_rule:axi4}
set ::project ""
set ::files {}
set ::core ""
set ::busifs {}
set ::bd ""
set ::cells [dict create]
set ::repos {}
set ::runs {}
set ::catalog_busifs {}

proc stub_call {args} {
    set f [open $::stub_log a]
    puts $f $args
    close $f
}
proc stub_fail {msg} { error "vivado stub: $msg" }
proc need_project {} { if {$::project eq ""} { stub_fail "no project open" } }
proc opt {argl name {default ""}} {
    set i [lsearch -exact $argl $name]
    if {$i < 0} { return $default }
    return [lindex $argl [expr {$i + 1}]]
}

proc create_project {args} {
    stub_call create_project {*}$args
    set pos [lsearch -all -inline -not -glob $args -*]
    set pos [lsearch -all -inline -not -exact $pos [opt $args -part]]
    lassign $pos name dir
    if {[opt $args -part] eq ""} { stub_fail "create_project without -part" }
    file mkdir $dir
    close [open [file join $dir $name.xpr] w]
    set ::project [file join $dir $name]
}
proc open_project {path} {
    stub_call open_project $path
    if {![file exists $path]} { stub_fail "open_project: $path does not exist" }
    set ::project [file rootname $path]
    if {[file exists $::project.bd_saved]} { set ::bd qloom_bd }
}
proc close_project {} { stub_call close_project; need_project; set ::project "" }
proc current_project {} { need_project; return project }
proc current_fileset {} { need_project; return sources_1 }
proc update_compile_order {args} { stub_call update_compile_order {*}$args; need_project }
proc add_files {args} {
    stub_call add_files {*}$args
    need_project
    foreach f [lindex $args end] {
        if {![file exists $f]} { stub_fail "add_files: $f does not exist" }
        lappend ::files [file tail $f]
    }
}
proc get_files {name} {
    need_project
    if {[lsearch -exact $::files $name] < 0} { stub_fail "get_files: no file $name" }
    return file:$name
}
proc set_property {args} {
    stub_call set_property {*}$args
    if {[lindex $args 0] eq "-dict"} {
        if {[llength [lindex $args 1]] % 2} { stub_fail "set_property -dict: odd list" }
        set obj [lindex $args 2]
    } else {
        if {[llength $args] != 3} { stub_fail "set_property NAME VALUE OBJECT: got $args" }
        lassign $args name value obj
        if {$name eq "ip_repo_paths"} { set ::repos $value }
    }
    if {$obj eq ""} { stub_fail "set_property on no object" }
}
proc get_property {name obj} {
    if {![string match run:* $obj]} { stub_fail "get_property $name of $obj" }
    return "100%"
}
proc get_board_parts {args} { stub_call get_board_parts {*}$args; return {} }
proc get_ipdefs {args} {
    set pat [lindex $args end]
    return [lsearch -all -inline -glob $::ipdefs $pat]
}

# ---- IP packaging
namespace eval ipx {}
proc ipx::package_project {args} {
    stub_call ipx::package_project {*}$args
    need_project
    if {![llength $::files]} { stub_fail "package_project with no files" }
    set ::core_root [opt $args -root_dir]
    set ::core_vendor [opt $args -vendor]
    set ::core_library [opt $args -library]
    file mkdir $::core_root
    set ::core core
}
proc ipx::current_core {} { if {$::core eq ""} { stub_fail "no current core" }; return $::core }
proc need_core {c} { if {$c ne "core" || $::core eq ""} { stub_fail "not a core: $c" } }
proc ipx::infer_bus_interfaces {vlnv c} {
    stub_call ipx::infer_bus_interfaces $vlnv $c
    need_core $c
    if {$vlnv eq "xilinx.com:interface:axis_rtl:1.0"} {
        foreach p $::ip_ports {
            if {[regexp {^(.*)_tdata$} $p -> prefix]} { lappend ::busifs $prefix }
        }
    } elseif {$vlnv eq "xilinx.com:interface:aximm_rtl:1.0"} {
        # AXI4 / AXI4-Lite: an interface per prefix with the five channels' handshakes
        foreach p $::ip_ports {
            if {[regexp {^(.*)_awaddr$} $p -> prefix]} {
                foreach sig {awvalid awready wvalid wready bvalid bready arvalid arready araddr rvalid rready rdata wdata} {
                    if {[lsearch -exact $::ip_ports ${prefix}_$sig] < 0} { stub_fail "AXI interface $prefix has no ${prefix}_$sig" }
                }
                lappend ::busifs $prefix
            }
        }
    } else { stub_fail "unknown bus type $vlnv" }
}
proc ipx::infer_bus_interface {port vlnv c} {
    stub_call ipx::infer_bus_interface $port $vlnv $c
    need_core $c
    if {[lsearch -exact $::ip_ports $port] < 0} { stub_fail "no port $port" }
    if {$vlnv ni {xilinx.com:signal:clock_rtl:1.0 xilinx.com:signal:reset_rtl:1.0 xilinx.com:signal:interrupt_rtl:1.0}} { stub_fail "bus type $vlnv" }
    lappend ::busifs $port
}
proc ipx::associate_bus_interfaces {args} {
    stub_call ipx::associate_bus_interfaces {*}$args
    need_core [lindex $args end]
    foreach o {-busif -clock -reset} {
        set v [opt $args $o]
        if {$v ne "" && [lsearch -exact $::busifs $v] < 0} { stub_fail "associate: no bus interface $v" }
    }
}
proc ipx::get_bus_interfaces {name args} {
    need_core [opt $args -of_objects]
    if {[lsearch -exact $::busifs $name] < 0} { stub_fail "no bus interface $name" }
    return busif:$name
}
proc ipx::get_bus_parameters {name args} {
    set of [opt $args -of_objects]
    if {![string match busif:* $of]} { stub_fail "bus parameter of $of" }
    return param:$name
}
foreach c {create_xgui_files update_checksums} {
    proc ipx::$c {c} "stub_call ipx::$c \$c; need_core \$c"
}
proc ipx::check_integrity {args} {
    stub_call ipx::check_integrity {*}$args
    need_core [lindex $args end]
    foreach a [lrange $args 0 end-1] { if {$a ni {-kernel -quiet}} { stub_fail "check_integrity option $a" } }
    if {"-kernel" in $args} {
        # the kernel rules (UG1393): ap_clk, s_axi_control, the sdx_kernel properties
        foreach b {ap_clk s_axi_control} { if {$b ni $::busifs} { stub_fail "kernel without bus interface $b" } }
        if {![dict exists $::core_props sdx_kernel] || [dict get $::core_props sdx_kernel] ne "true"} {
            stub_fail "check_integrity -kernel: sdx_kernel is not true"
        }
    }
}
proc ipx::save_core {c} {
    stub_call ipx::save_core $c
    need_core $c
    set f [open [file join $::core_root component.vlnv] w]
    puts $f "$::core_vendor:$::core_library:[dict get $::core_props name]:[dict get $::core_props version]"
    puts $f $::busifs
    puts $f $::core_props
    close $f
}
set ::core_props {}
rename set_property _set_property
proc set_property {args} {
    if {[llength $args] == 3 && [lindex $args 2] eq "core"} { lappend ::core_props [lindex $args 0] [lindex $args 1] }
    _set_property {*}$args
}

# ---- block design
proc update_ip_catalog {} {
    stub_call update_ip_catalog
    foreach r $::repos {
        set f [file join $r component.vlnv]
        if {![file exists $f]} { stub_fail "IP repository $r holds no packaged IP" }
        set h [open $f]
        lappend ::ipdefs [string trim [gets $h]]
        set ::catalog_busifs [string trim [gets $h]]
        close $h
    }
}
proc create_bd_design {name} {
    stub_call create_bd_design $name
    need_project
    set ::bd $name
    lappend ::files $name.bd
}
proc need_bd {} { if {$::bd eq ""} { stub_fail "no block design" } }
proc create_bd_cell {args} {
    stub_call create_bd_cell {*}$args
    need_bd
    set vlnv [opt $args -vlnv]
    if {[lsearch -exact $::ipdefs $vlnv] < 0} { stub_fail "create_bd_cell: IP $vlnv not in the catalog" }
    set name [lindex $args end]
    if {[dict exists $::cells $name]} { stub_fail "cell $name exists" }
    dict set ::cells $name [lindex [split $vlnv :] 2]
}
proc get_bd_cells {name} {
    if {![dict exists $::cells $name]} { stub_fail "no cell $name" }
    return cell:$name
}
proc pin_check {path intf} {
    lassign [split [string trimleft $path /] /] cell pin
    if {![dict exists $::cells $cell]} { stub_fail "no cell $cell (pin $path)" }
    set ip [dict get $::cells $cell]
    if {[info exists ::ip_pins($ip)]} {
        set pins [expr {$intf ? $::ip_pins($ip,intf) : $::ip_pins($ip)}]
    } else {
        set pins [expr {$intf ? $::catalog_busifs : $::ip_ports}]
    }
    if {[lsearch -exact $pins $pin] < 0} { stub_fail "cell $cell ($ip) has no [expr {$intf ? {interface } : {}}]pin $pin" }
}
proc get_bd_pins {path} { pin_check $path 0; return pin:$path }
proc get_bd_intf_pins {path} { pin_check $path 1; return intf:$path }
proc connect_bd_net {a b} {
    stub_call connect_bd_net $a $b
    if {![string match pin:* $a] || ![string match pin:* $b]} { stub_fail "connect_bd_net $a $b" }
}
proc connect_bd_intf_net {a b} {
    stub_call connect_bd_intf_net $a $b
    if {![string match intf:* $a] || ![string match intf:* $b]} { stub_fail "connect_bd_intf_net $a $b" }
}
proc apply_bd_automation {args} {
    stub_call apply_bd_automation {*}$args
    need_bd
    if {[lsearch -exact $::rules [opt $args -rule]] < 0} { stub_fail "unknown rule [opt $args -rule]" }
    set cfg [opt $args -config]
    if {[llength $cfg] % 2} { stub_fail "automation config is not a dict: $cfg" }
    foreach {k v} $cfg {
        if {$k in {Master Slave} && $v ne "Disable"} { pin_check $v 1 }
        if {$k eq "Clk" && $v ne "Auto"} { pin_check $v 0 }
    }
    set t [lindex $args end]
    if {![regexp {^(cell|intf):} $t]} { stub_fail "automation target $t" }
}
foreach c {assign_bd_address validate_bd_design} {
    proc $c {} "stub_call $c; need_bd"
}
proc save_bd_design {} { stub_call save_bd_design; need_bd; close [open $::project.bd_saved w] }
proc make_wrapper {args} {
    stub_call make_wrapper {*}$args
    if {![string match file:*.bd [opt $args -files]]} { stub_fail "make_wrapper -files [opt $args -files]" }
    lappend ::files qloom_bd_wrapper.v
}

# ---- runs
proc launch_runs {run args} {
    stub_call launch_runs $run {*}$args
    need_project
    if {$run ni {synth_1 impl_1}} { stub_fail "no run $run" }
    if {$run eq "impl_1"} {
        if {"synth_1" ni $::runs} { stub_fail "impl_1 before synth_1" }
        if {$::bd eq ""} { stub_fail "no saved block design to implement" }
        set d $::project.runs/impl_1
        file mkdir $d
        close [open $d/qloom_bd_wrapper.bit w]
        set h $::project.gen/sources_1/bd/qloom_bd/hw_handoff
        file mkdir $h
        close [open $h/qloom_bd.hwh w]
    }
    lappend ::runs $run
}
proc wait_on_run {run} { stub_call wait_on_run $run; if {$run ni $::runs} { stub_fail "run $run not launched" } }
proc get_runs {run} { if {$run ni $::runs} { stub_fail "no run $run" }; return run:$run }

# ---- Vitis kernel packaging (UG1393, package_xo)
proc package_xo {args} {
    stub_call package_xo {*}$args
    foreach o {-xo_path -kernel_name -ip_directory -kernel_xml} {
        if {[opt $args $o] eq ""} { stub_fail "package_xo without $o" }
    }
    set comp [file join [opt $args -ip_directory] component.vlnv]
    if {![file exists $comp]} { stub_fail "package_xo: no packaged IP in [opt $args -ip_directory]" }
    set h [open $comp]; set vlnv [string trim [gets $h]]; set busifs [string trim [gets $h]]; set props [string trim [gets $h]]; close $h
    if {![dict exists $props sdx_kernel_type] || [dict get $props sdx_kernel_type] ne "rtl"} { stub_fail "package_xo: IP is not an RTL kernel" }
    set xml [opt $args -kernel_xml]
    if {![file exists $xml]} { stub_fail "package_xo: no $xml" }
    set h [open $xml]; set text [read $h]; close $h
    if {![regexp {<kernel name="([^"]+)"[^>]* vlnv="([^"]+)"} $text -> kname kvlnv]} { stub_fail "kernel.xml: no kernel element" }
    if {$kname ne [opt $args -kernel_name]} { stub_fail "package_xo: kernel name [opt $args -kernel_name] but kernel.xml says $kname" }
    if {$kvlnv ne $vlnv} { stub_fail "kernel.xml vlnv $kvlnv is not the packaged IP's $vlnv" }
    foreach {- p} [regexp -all -inline {<port name="([^"]+)"} $text] {
        if {$p ni $busifs} { stub_fail "kernel.xml port $p is no bus interface of the IP" }
    }
    foreach {- p} [regexp -all -inline {<arg [^>]*port="([^"]+)"} $text] {
        if {$p ni $busifs} { stub_fail "kernel.xml argument on $p, no bus interface of the IP" }
    }
    close [open [opt $args -xo_path] w]
}
