// Built-in modules that need no file. They are written in snmp_exporter's module format (numeric OIDs, so no
// MIB files are needed) and go through the same parser as user files, so they obey the same rules. `if_mib` is
// snmp_exporter's own generated module (see builtin-if-mib.ts); the others are ours, named after the MIB objects
// they read, so a generator-made module for the same MIB yields compatible series.

import { IF_MIB_V0_21_0_YAML } from './builtin-if-mib.ts';
import type { SnmpModule } from './module.ts';
import { parseModuleFile } from './module.ts';

const IDX = (label: string): string => `    indexes:\n    - labelname: ${label}\n      type: gauge\n`;

const SYSTEM_YAML = `
system:
  get:
  - 1.3.6.1.2.1.1.1.0
  - 1.3.6.1.2.1.1.2.0
  - 1.3.6.1.2.1.1.3.0
  - 1.3.6.1.2.1.1.5.0
  - 1.3.6.1.2.1.1.6.0
  metrics:
  - name: sysUpTime
    oid: 1.3.6.1.2.1.1.3
    type: gauge
    help: The time (in hundredths of a second) since the network management portion of the system was last re-initialized. - 1.3.6.1.2.1.1.3
  - name: sysDescr
    oid: 1.3.6.1.2.1.1.1
    type: DisplayString
    help: A textual description of the entity - 1.3.6.1.2.1.1.1
  - name: sysObjectID
    oid: 1.3.6.1.2.1.1.2
    type: DisplayString
    help: The vendor's authoritative identification of the network management subsystem - 1.3.6.1.2.1.1.2
  - name: sysName
    oid: 1.3.6.1.2.1.1.5
    type: DisplayString
    help: An administratively-assigned name for this managed node - 1.3.6.1.2.1.1.5
  - name: sysLocation
    oid: 1.3.6.1.2.1.1.6
    type: DisplayString
    help: The physical location of this node - 1.3.6.1.2.1.1.6
`;

const HR_STORAGE_LOOKUP = `    lookups:
    - labels: [hrStorageIndex]
      labelname: hrStorageDescr
      oid: 1.3.6.1.2.1.25.2.3.1.3
      type: DisplayString
`;

const HOST_RESOURCES_YAML = `
host_resources:
  walk:
  - 1.3.6.1.2.1.25.2.3.1.3
  - 1.3.6.1.2.1.25.2.3.1.4
  - 1.3.6.1.2.1.25.2.3.1.5
  - 1.3.6.1.2.1.25.2.3.1.6
  - 1.3.6.1.2.1.25.3.3.1.2
  get:
  - 1.3.6.1.2.1.25.1.1.0
  - 1.3.6.1.2.1.25.1.5.0
  - 1.3.6.1.2.1.25.1.6.0
  - 1.3.6.1.2.1.25.2.2.0
  metrics:
  - name: hrSystemUptime
    oid: 1.3.6.1.2.1.25.1.1
    type: gauge
    help: The amount of time since this host was last initialized (hundredths of a second) - 1.3.6.1.2.1.25.1.1
  - name: hrSystemNumUsers
    oid: 1.3.6.1.2.1.25.1.5
    type: gauge
    help: The number of user sessions - 1.3.6.1.2.1.25.1.5
  - name: hrSystemProcesses
    oid: 1.3.6.1.2.1.25.1.6
    type: gauge
    help: The number of process contexts currently loaded or running - 1.3.6.1.2.1.25.1.6
  - name: hrMemorySize
    oid: 1.3.6.1.2.1.25.2.2
    type: gauge
    help: The amount of physical read-write main memory (KiB) - 1.3.6.1.2.1.25.2.2
  - name: hrStorageAllocationUnits
    oid: 1.3.6.1.2.1.25.2.3.1.4
    type: gauge
    help: The size, in bytes, of the data objects allocated from this pool - 1.3.6.1.2.1.25.2.3.1.4
${IDX('hrStorageIndex')}${HR_STORAGE_LOOKUP}
  - name: hrStorageSize
    oid: 1.3.6.1.2.1.25.2.3.1.5
    type: gauge
    help: The size of the storage, in units of hrStorageAllocationUnits - 1.3.6.1.2.1.25.2.3.1.5
${IDX('hrStorageIndex')}${HR_STORAGE_LOOKUP}
  - name: hrStorageUsed
    oid: 1.3.6.1.2.1.25.2.3.1.6
    type: gauge
    help: The amount of the storage that is allocated, in units of hrStorageAllocationUnits - 1.3.6.1.2.1.25.2.3.1.6
${IDX('hrStorageIndex')}${HR_STORAGE_LOOKUP}
  - name: hrProcessorLoad
    oid: 1.3.6.1.2.1.25.3.3.1.2
    type: gauge
    help: The average percentage of time this processor was not idle over the last minute - 1.3.6.1.2.1.25.3.3.1.2
${IDX('hrDeviceIndex')}`;

const ENT = '1.3.6.1.2.1.47.1.1.1.1';
const entLookup = (name: string, col: number): string => `    - labels: [entPhysicalIndex]
      labelname: ${name}
      oid: ${ENT}.${col}
      type: DisplayString
`;

// One info-style series per physical entity: the model name carries serial, hardware, firmware and software
// revisions as lookup labels, which firmware compliance reads.
const ENTITY_YAML = `
entity:
  walk:
  - ${ENT}.2
  - ${ENT}.7
  - ${ENT}.8
  - ${ENT}.9
  - ${ENT}.10
  - ${ENT}.11
  - ${ENT}.12
  - ${ENT}.13
  metrics:
  - name: entPhysicalModelName
    oid: ${ENT}.13
    type: DisplayString
    help: Physical entity model name, with serial number and hardware, firmware and software revisions as labels - ${ENT}.13
${IDX('entPhysicalIndex')}    lookups:
${entLookup('entPhysicalDescr', 2)}${entLookup('entPhysicalName', 7)}${entLookup('entPhysicalHardwareRev', 8)}${entLookup('entPhysicalFirmwareRev', 9)}${entLookup('entPhysicalSoftwareRev', 10)}${entLookup('entPhysicalSerialNum', 11)}${entLookup('entPhysicalMfgName', 12)}`;

const UPS = '1.3.6.1.2.1.33.1';
const UPS_YAML = `
ups:
  walk:
  - ${UPS}.2
  - ${UPS}.3.3.1.3
  - ${UPS}.4.1
  - ${UPS}.4.4.1.5
  - ${UPS}.6.1
  metrics:
  - name: upsBatteryStatus
    oid: ${UPS}.2.1
    type: EnumAsStateSet
    help: The indication of the capacity remaining in the UPS system's batteries - ${UPS}.2.1
    enum_values:
      1: unknown
      2: batteryNormal
      3: batteryLow
      4: batteryDepleted
  - name: upsSecondsOnBattery
    oid: ${UPS}.2.2
    type: gauge
    help: Seconds since the UPS switched to battery power, 0 when not on battery - ${UPS}.2.2
  - name: upsEstimatedMinutesRemaining
    oid: ${UPS}.2.3
    type: gauge
    help: Estimated minutes until battery charge is depleted at the present load - ${UPS}.2.3
  - name: upsEstimatedChargeRemaining
    oid: ${UPS}.2.4
    type: gauge
    help: Estimate of the battery charge remaining, in percent - ${UPS}.2.4
  - name: upsBatteryVoltage
    oid: ${UPS}.2.5
    type: gauge
    help: The magnitude of the present battery voltage (0.1 V DC) - ${UPS}.2.5
  - name: upsBatteryTemperature
    oid: ${UPS}.2.7
    type: gauge
    help: The ambient temperature at or near the UPS battery casing (degrees Celsius) - ${UPS}.2.7
  - name: upsInputVoltage
    oid: ${UPS}.3.3.1.3
    type: gauge
    help: The magnitude of the present input voltage (RMS volts) - ${UPS}.3.3.1.3
${IDX('upsInputLineIndex')}  - name: upsOutputSource
    oid: ${UPS}.4.1
    type: EnumAsStateSet
    help: The present source of output power; battery means the UPS is on battery - ${UPS}.4.1
    enum_values:
      1: other
      2: none
      3: normal
      4: bypass
      5: battery
      6: booster
      7: reducer
  - name: upsOutputPercentLoad
    oid: ${UPS}.4.4.1.5
    type: gauge
    help: The percentage of the UPS power capacity presently being used on this output line - ${UPS}.4.4.1.5
${IDX('upsOutputLineIndex')}  - name: upsAlarmsPresent
    oid: ${UPS}.6.1
    type: gauge
    help: The present number of active alarm conditions - ${UPS}.6.1
`;

const PRT = '1.3.6.1.2.1.43.11.1.1';
const SUPPLY_INDEXES = `    indexes:
    - labelname: hrDeviceIndex
      type: gauge
    - labelname: prtMarkerSuppliesIndex
      type: gauge
    lookups:
    - labels: [hrDeviceIndex, prtMarkerSuppliesIndex]
      labelname: prtMarkerSuppliesDescription
      oid: ${PRT}.6
      type: DisplayString
`;

const PRINTER_YAML = `
printer:
  walk:
  - 1.3.6.1.2.1.25.3.2.1.5
  - 1.3.6.1.2.1.25.3.5.1.1
  - 1.3.6.1.2.1.25.3.5.1.2
  - ${PRT}.6
  - ${PRT}.8
  - ${PRT}.9
  metrics:
  - name: hrDeviceStatus
    oid: 1.3.6.1.2.1.25.3.2.1.5
    type: EnumAsStateSet
    help: The current operational state of the device - 1.3.6.1.2.1.25.3.2.1.5
${IDX('hrDeviceIndex')}    enum_values:
      1: unknown
      2: running
      3: warning
      4: testing
      5: down
  - name: hrPrinterStatus
    oid: 1.3.6.1.2.1.25.3.5.1.1
    type: EnumAsStateSet
    help: The current status of this printer device - 1.3.6.1.2.1.25.3.5.1.1
${IDX('hrDeviceIndex')}    enum_values:
      1: other
      2: unknown
      3: idle
      4: printing
      5: warmup
  - name: hrPrinterDetectedErrorState
    oid: 1.3.6.1.2.1.25.3.5.1.2
    type: Bits
    help: The error conditions detected by the printer - 1.3.6.1.2.1.25.3.5.1.2
${IDX('hrDeviceIndex')}    enum_values:
      0: lowPaper
      1: noPaper
      2: lowToner
      3: noToner
      4: doorOpen
      5: jammed
      6: offline
      7: serviceRequested
      8: inputTrayMissing
      9: outputTrayMissing
      10: markerSupplyMissing
      11: outputNearFull
      12: outputFull
      13: inputTrayEmpty
      14: overduePreventMaint
  - name: prtMarkerSuppliesLevel
    oid: ${PRT}.9
    type: gauge
    help: The current level of this supply (-1 other, -2 unknown, -3 some remaining) - ${PRT}.9
${SUPPLY_INDEXES}  - name: prtMarkerSuppliesMaxCapacity
    oid: ${PRT}.8
    type: gauge
    help: The maximum capacity of this supply (-1 other, -2 unknown) - ${PRT}.8
${SUPPLY_INDEXES}`;

/** The YAML text of every built-in module, for `storewatch snmp modules` style listings and tests. */
export const BUILTIN_MODULE_YAML: Readonly<Record<string, string>> = {
  system: SYSTEM_YAML,
  if_mib: IF_MIB_V0_21_0_YAML,
  host_resources: HOST_RESOURCES_YAML,
  entity: ENTITY_YAML,
  ups: UPS_YAML,
  printer: PRINTER_YAML,
};

/** Parses the built-in modules (a programming error in them throws at startup, and in the tests). */
export function builtinModules(): Map<string, SnmpModule> {
  const out = new Map<string, SnmpModule>();
  for (const [name, text] of Object.entries(BUILTIN_MODULE_YAML)) {
    const file = parseModuleFile(text, `built-in module ${name}`);
    for (const [k, m] of file.modules) out.set(k, m);
  }
  return out;
}
