# The userspace datapath side of the protostack actions, compiled into OvS
# by ofproto-ext/automake.mk.
ovs_linked_files += \
	datapath/ps-dp.c \
	datapath/ps-dp.h
