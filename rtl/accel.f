accel_pkg.sv
accel_fp.svh
accel_ram.sv
accel_rams.sv
accel_pe.sv
accel_array.sv
accel_acc_col.sv
accel_top.sv
