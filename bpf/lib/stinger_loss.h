/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Loss per sensor: the slots of the lost_records map (stinger_maps.h). A program that finds the shared ring buffer
 * full counts the record in its own sensor's slot (count_lost_record, stinger_helpers.h), so user space can say
 * which sensor lost records in a storm (libs/bpf SENSOR_LOSS_SLOTS, Sensor.lostRecords(); a layout test holds the
 * two tables equal). A sensor is a folder of bpf/: the Makefile defines STINGER_SENSOR_<folder> for each object.
 * No kernel types here: the layout test compiles this header for the host.
 */
#ifndef STINGER_LOSS_H
#define STINGER_LOSS_H

#define LOSS_SLOT_PROCESS 0
#define LOSS_SLOT_FILE 1
#define LOSS_SLOT_NETWORK 2
#define LOSS_SLOT_PRIVILEGE 3
#define LOSS_SLOTS 4

#endif /* STINGER_LOSS_H */
